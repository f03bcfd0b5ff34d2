"""Pure clinical scoring rules: NEWS2, withdrawal scales, input limits and shifts."""
