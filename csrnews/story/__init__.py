"""The story contract: story files, vocabulary, URLs, default settings, the field schema."""
