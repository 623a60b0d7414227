"""Training: counting pre-tokens (in processes), the counts table and its TSV, the CS336 merge loop, the trainer, and
live runs in a child process."""
