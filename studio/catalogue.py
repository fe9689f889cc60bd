"""What a personal model takes: how many photos, and the training parameters with their
defaults and the ranges the trainers accept and that make sense."""

MODEL_MIN_PHOTOS = 5
MODEL_MAX_PHOTOS = 30
MODEL_RECOMMENDED_PHOTOS = (10, 20)
# With this many photos of a face, two are held out of training, so that the validation round
# scores the trained model against faces it never saw (generation.validation).
HOLDOUT_MIN_PHOTOS = 12
HOLDOUT_PHOTOS = 2

TRAINING_DEFAULTS = {"steps": 1000, "learning_rate": 0.0004, "lora_rank": 16}
TRAINING_RANGES = {"steps": (100, 6000), "learning_rate": (0.00001, 0.01), "lora_rank": (1, 128)}
