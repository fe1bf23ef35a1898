// Synthetic module.
