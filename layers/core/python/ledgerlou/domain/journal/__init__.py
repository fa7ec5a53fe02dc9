"""The journal (Journal, Grundbuch): bookings and their tax split (``booking``), the appender that
numbers, chains and writes them as blocks (``appender``), reversals (``reversal``), the reads (``reads``)
and the projector that builds the read side from the blocks (``projector``). ``entries`` holds the
frozen types of what a booking builds.
"""
