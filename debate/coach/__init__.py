"""Coaching: checks of the student's evidence, feedback, the flow sheet and the ballot."""
