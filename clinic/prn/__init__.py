"""As-needed (PRN) medications: orders, doses under their limits, effect follow-up."""
