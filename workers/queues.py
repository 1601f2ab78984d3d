import enum


class Queue(enum.StrEnum):
    default = "default"
    training = "training"
    scoring = "scoring"
