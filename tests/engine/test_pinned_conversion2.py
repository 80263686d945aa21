"""Pinned values for engine/conversion that the mutation run found unchecked
(round 3b): calibrate_bias, classify_over_T, the ANN targets, and the training
progress messages.  Expected values are worked out by hand from the
definitions (rate = spikes / T, threshold-scaled), not copied from a run."""
