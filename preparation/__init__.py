"""Turning documents into NTM datasets: bag-of-words records in recordIO-protobuf."""
