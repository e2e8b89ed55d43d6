"""``ntm-tuning``: submit tuning requests to the deployed stack (or offline), watch them, and
get their results and reports."""
