"""The contact book: the people and units a 督办 item reaches, each with a channel address."""
