"""Sparring: reading the student's message, planning the turn, the speech engines, the
session and its transcript."""
