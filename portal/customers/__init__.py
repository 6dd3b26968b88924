"""Customers: the bottom of the portal's packages.

The customer and login-ID models, the rules every customer field follows (login ID, email,
phone, postal code, birth date, business number), their messages, lookup by login ID, and
the creation of a customer row from an application form. Everything else (credentials,
the customer's own pages, billing, staff) builds on this package; it imports none of them.
"""
