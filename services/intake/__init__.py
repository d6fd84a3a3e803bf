"""Intake: mail and web in, RequestFiled out. Kept import-light for the mail pipe."""
