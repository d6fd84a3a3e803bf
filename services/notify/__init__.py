"""Notify: renders and sends every email a requester or staff member gets, once."""
