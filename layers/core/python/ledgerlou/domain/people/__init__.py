"""People — reserved: users, sessions and passwords (the dashboard's login) will live here.
"""
