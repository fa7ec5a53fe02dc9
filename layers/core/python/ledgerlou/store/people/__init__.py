"""People: users (``users``), login sessions (``sessions``), setup/reset tokens (``tokens``), throttle
counters (``throttle``) and contact-form messages (``contact``).
"""
