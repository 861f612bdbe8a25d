"""promptlab: a command-line prompt lab for Amazon Bedrock."""

__version__ = "0.1.0"
