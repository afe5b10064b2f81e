"""Bad-input corpora: tables of hostile requests and records, each row with the outcome it must get."""
