"""DIET trained on batches of messages of similar length (``config.yml``: ``BucketedDIETClassifier``).

Rasa pads every batch to its longest message (``RasaDataGenerator.prepare_batch``), and DIET's
transformer, feed-forward layers and CRF then compute on the padding too. Our training data mixes
one-word answers (「はい」「カイロ」) with relayed posts of 60-100 characters, so in Rasa's shuffled
batches most of DIET's work was on padding: per epoch, batches of 64-256 cost about 4 times the
real tokens in the linear layers and about 12 times in attention (char lengths of the 5,552
examples, docs/nlu.md "Training time").

:class:`LengthBucketedBatchDataGenerator` builds each epoch as Rasa does (the shuffle and the
``balanced`` class mix with its repeats of rare intents), then, within each window of
``length_bucket_window`` consecutive batches, sorts the examples by sequence length, cuts the
window into batches again and shuffles the order of the batches. Every example is seen as often
as before; a batch holds messages of similar length; the class balance holds over each window of
batches instead of over each batch. Only training batches change: the model, its features and
prediction are DIET's own (the class adds nothing at prediction time).

``length_bucket_window: 0`` trains exactly as ``DIETClassifier``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils import train_utils
from rasa.utils.tensorflow.constants import SEQUENCE
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import Data, RasaModelData

WINDOW_KEY = "length_bucket_window"
DEFAULT_WINDOW = 8


def bucketed_order(lengths: np.ndarray, batch_size: int, window: int,
                   rng: Any = np.random) -> np.ndarray:
    """Positions of the examples in training order: sorted by length within each window of
    ``window`` batches, cut into batches of ``batch_size``, the full batches shuffled.

    The last, partial batch (if any) stays last, so that Rasa's slicing by
    ``index * batch_size`` still yields whole batches.
    """
    n = len(lengths)
    if window <= 0 or batch_size <= 0 or n == 0:
        return np.arange(n)
    span = batch_size * window
    order = np.concatenate([
        start + np.argsort(lengths[start:start + span], kind="stable")
        for start in range(0, n, span)
    ])
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    partial = batches.pop() if len(batches[-1]) < batch_size else None
    batches = [batches[i] for i in rng.permutation(len(batches))]
    if partial is not None:
        batches.append(partial)
    return np.concatenate(batches)


def sequence_lengths(data: Data) -> np.ndarray | None:
    """Token count of each example's text sequence, or None when the data has none."""
    features = data.get(TEXT, {}).get(SEQUENCE) if data else None
    if not features:
        return None
    return np.fromiter((x.shape[0] for x in features[0]), dtype=np.int64, count=len(features[0]))


class LengthBucketedBatchDataGenerator(RasaBatchDataGenerator):
    """Rasa's batch generator; each epoch's order bucketed by length (:func:`bucketed_order`)."""

    def __init__(self, model_data: RasaModelData, batch_size: list[int] | int,
                 epochs: int = 1, batch_strategy: str = SEQUENCE, shuffle: bool = True,
                 drop_small_last_batch: bool = False, *, window: int = DEFAULT_WINDOW) -> None:
        self.window = window  # before super().__init__, which prepares the first epoch
        super().__init__(model_data, batch_size, epochs, batch_strategy, shuffle,
                         drop_small_last_batch)

    def _shuffle_and_balance(self, batch_size: int) -> Data:
        data = super()._shuffle_and_balance(batch_size)
        if not self.shuffle or self.window <= 0:
            return data
        lengths = sequence_lengths(data)
        if lengths is None:
            return data
        ids = bucketed_order(lengths, batch_size, self.window)
        return self.model_data._data_for_ids(data, ids)


@contextmanager
def _bucketed_generators(window: int) -> Iterator[None]:
    """``train_utils.create_data_generators`` making the *training* generator bucketed.

    ``DIETClassifier.train`` builds its generators through that module function; it is replaced
    for the duration of one ``train`` call (Rasa's graph trains one node at a time, in this
    process) and put back afterwards. The validation generator, if any, is Rasa's own.
    """
    original = train_utils.create_data_generators

    def create(model_data: RasaModelData, batch_sizes: int | list[int], epochs: int,
               batch_strategy: str = SEQUENCE, eval_num_examples: int = 0,
               random_seed: int | None = None, shuffle: bool = True,
               drop_small_last_batch: bool = False,
               ) -> tuple[RasaBatchDataGenerator, RasaBatchDataGenerator | None]:
        validation = None
        if eval_num_examples > 0:
            model_data, eval_data = model_data.split(eval_num_examples, random_seed)
            validation = RasaBatchDataGenerator(
                eval_data, batch_size=batch_sizes, epochs=epochs, batch_strategy=batch_strategy,
                shuffle=shuffle, drop_small_last_batch=drop_small_last_batch)
        generator = LengthBucketedBatchDataGenerator(
            model_data, batch_size=batch_sizes, epochs=epochs, batch_strategy=batch_strategy,
            shuffle=shuffle, drop_small_last_batch=drop_small_last_batch, window=window)
        return generator, validation

    train_utils.create_data_generators = create
    try:
        yield
    finally:
        train_utils.create_data_generators = original


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
     DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class BucketedDIETClassifier(DIETClassifier):
    """``DIETClassifier`` whose training batches hold messages of similar length."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DIETClassifier.get_default_config(), WINDOW_KEY: DEFAULT_WINDOW}

    def train(self, training_data: TrainingData) -> Resource:
        with _bucketed_generators(int(self.component_config[WINDOW_KEY])):
            return super().train(training_data)
