"""Services: the domain operations. Each takes the session as a keyword argument and returns plain values."""
