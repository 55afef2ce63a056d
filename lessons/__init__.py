"""What QueueLab teaches: the concepts (concepts.py), and the lessons built on them."""
