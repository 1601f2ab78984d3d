"""The label-efficiency simulator, an experiment harness built on the learning core (app.learning).

It replays ground-truth masks as a perfect annotator and trains, evaluates, scores and selects with
the core's own functions; what is here is only the experiment: the loop (run), labeling state and
training schedule (tasks), acquisition rounds (acquire), data (data), options (config), the results
document (results), and what a person sees: the `labelwise simulate` command (cli), the summary table
and curves.png (report). bench is a manual check of the demo data's difficulty.

Nothing is imported here, so `app.cli` can build its parser (app.simulation.cli, config) without torch.
"""
