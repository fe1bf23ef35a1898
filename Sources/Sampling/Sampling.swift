// Sampling module.
