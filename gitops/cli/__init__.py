"""The only code that uses click and rich: commands and their output."""
