"""Machine labels: tasks the model is sure of get its suggestion as a label, kept apart from human
labels, with a random audit share sent to humans whose corrections measure the machine's error."""
