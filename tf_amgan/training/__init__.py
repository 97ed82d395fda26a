"""Training: the run's options (config, flags), device strategy (distribute), the GAN trainer and
the training loop (experiment). Imports nothing above it: the periodic evaluator and the export on
finish are handed to `experiment.run` by the caller (tf_amgan.train).
"""
