// Tokenizers and prompt templates.
