"""People: users invited by an admin (``users``), passwords (``passwords``), login sessions
(``sessions``), setup/reset tokens (``tokens``), throttling of the public routes (``throttling``),
outgoing mail (``mail``) and the public contact form (``contact``).
"""
