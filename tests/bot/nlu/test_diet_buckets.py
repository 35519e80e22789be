"""The length-bucketed DIET (bot/nlu/diet.py): same examples per epoch, batches of similar length."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.utils import train_utils
from rasa.utils.tensorflow.constants import BALANCED, LABEL, SENTENCE, SEQUENCE
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData

from bot.nlu.diet import (
    BucketedDIETClassifier,
    LengthBucketedBatchDataGenerator,
    _bucketed_generators,
    bucketed_order,
)


def _lengths(rng: np.random.RandomState, n: int) -> np.ndarray:
    """Token counts shaped like our training data: mostly short lines, a tail of long posts."""
    return np.clip(rng.lognormal(2.2, 0.6, size=n), 1, 90).astype(int)


def _padding_cost(lengths: np.ndarray, order: np.ndarray, batch_size: int) -> int:
    return sum(
        len(b) * int(lengths[b].max()) for b in np.split(order, range(batch_size, len(order), batch_size))
    )


def test_bucketed_order_is_a_permutation_with_whole_batches_and_less_padding() -> None:
    rng = np.random.RandomState(0)
    lengths = _lengths(rng, 1003)
    order = bucketed_order(lengths, 64, 8, rng=np.random.RandomState(1))
    assert sorted(order.tolist()) == list(range(1003))  # every example once
    # the last, partial batch (1003 % 64 = 43 examples) stays last
    assert len(order) - (len(order) // 64) * 64 == 43
    shuffled = rng.permutation(1003)
    assert _padding_cost(lengths, order, 64) < 0.5 * _padding_cost(lengths, shuffled, 64)
    # each full batch comes from one window of 8 batches (positions 0-511, 512-1002)
    for b in np.split(order[: 15 * 64], 15):
        assert len({int(i) // 512 for i in b}) == 1


def test_window_zero_keeps_the_order() -> None:
    lengths = np.array([5, 1, 3])
    assert bucketed_order(lengths, 2, 0).tolist() == [0, 1, 2]


def _model_data(lengths: list[int], labels: list[int]) -> RasaModelData:
    seq = FeatureArray(
        np.array([scipy.sparse.coo_matrix(np.ones((n, 4))) for n in lengths] + [None], dtype=object)[:-1],
        number_of_dimensions=3,
    )
    sent = FeatureArray(
        np.array([scipy.sparse.coo_matrix(np.ones((1, 4))) for _ in lengths] + [None], dtype=object)[:-1],
        number_of_dimensions=3,
    )
    ids = FeatureArray(np.array([[x] for x in labels]), number_of_dimensions=2)
    return RasaModelData(
        label_key=LABEL,
        label_sub_key="ids",
        data={TEXT: {SEQUENCE: [seq], SENTENCE: [sent]}, LABEL: {"ids": [ids]}},
    )


@pytest.mark.parametrize("strategy", ["sequence", BALANCED])
def test_generator_keeps_rasas_epoch_and_pads_less(strategy: str) -> None:
    rng = np.random.RandomState(3)
    lengths = _lengths(rng, 400).tolist()
    labels = rng.randint(0, 5, size=400).tolist()
    data = _model_data(lengths, labels)

    np.random.seed(7)
    theirs = RasaBatchDataGenerator(data, batch_size=32, epochs=2, batch_strategy=strategy)
    np.random.seed(7)
    ours = LengthBucketedBatchDataGenerator(data, batch_size=32, epochs=2, batch_strategy=strategy, window=8)

    def epoch(gen: RasaBatchDataGenerator) -> tuple[list[int], int]:
        seen, padded = [], 0
        for i in range(len(gen)):
            batch = gen[i][0]
            # the sequence features come as (indices, values, shape) of a 3-d sparse tensor
            shape = batch[2]
            padded += int(shape[0] * shape[1])
            seen += [int(x) for x in batch[-1].ravel()]  # the label ids, one per example
        return sorted(seen), padded

    their_labels, their_padding = epoch(theirs)
    our_labels, our_padding = epoch(ours)
    assert len(ours) == len(theirs)
    assert our_labels == their_labels  # the same examples (and balance repeats) in the epoch
    assert our_padding < 0.6 * their_padding, (our_padding, their_padding)


def test_train_uses_the_bucketed_generator_and_puts_rasas_back() -> None:
    original = train_utils.create_data_generators
    data = _model_data([3, 1, 2, 5], [0, 1, 0, 1])
    with _bucketed_generators(4):
        gen, validation = train_utils.create_data_generators(data, 2, 1)
        assert isinstance(gen, LengthBucketedBatchDataGenerator) and gen.window == 4
        assert validation is None
    assert train_utils.create_data_generators is original


def test_default_config_is_diets_with_the_window() -> None:
    ours = BucketedDIETClassifier.get_default_config()
    theirs = DIETClassifier.get_default_config()
    assert {k: v for k, v in ours.items() if k != "length_bucket_window"} == theirs
    assert ours["length_bucket_window"] == 8
