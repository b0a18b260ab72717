"""Town services on the same residents (鞍手町DX推進計画2.0): garbage days, ..."""
