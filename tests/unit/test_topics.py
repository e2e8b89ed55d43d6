"""NTM's topics block, parsed from log text in the documented format (AWS's NTM blog post on
the auxiliary vocabulary channel and the WETC/TU metrics), and written back in it."""

from __future__ import annotations

import pytest
from ntm_tuning.topics import (
    final_block,
    format_topics_block,
    parse_blocks,
    strip_prefix,
    topic_uniqueness,
)

PREFIX = "[09/07/2018 12:55:38 INFO 139989295474496] "
# The first three topic lines of the post's example, with the post's header (num_topics
# shortened to 3 so the block is complete).
DOCUMENTED = [
    "Topics from epoch:final (num_topics:3) [wetc 0.37, tu 0.75]:",
    "[0.39, 0.72] game season september released power episode novel player ign jack "
    "playstation career trek boy life caused music people death fan",
    "[0.31, 0.75] single hit design tube speed tropical maximum final nuclear storm mm "
    "taxonomy drum peaked depth wave reached wind lb iii",
    "[0.35, 0.65] died record recorded st highway ny rule intersection chart intersects "
    "connector house century reached death billboard route charter king sr",
]


def test_the_documented_block_with_wetc() -> None:
    block = final_block([PREFIX + line for line in DOCUMENTED])
    assert block is not None
    assert (block.epoch, block.num_topics, block.wetc, block.tu) == ("final", 3, 0.37, 0.75)
    assert block.complete
    assert [(t.wetc, t.tu) for t in block.topics] == [(0.39, 0.72), (0.31, 0.75), (0.35, 0.65)]
    assert block.topics[0].words[:3] == ("game", "season", "september")
    assert block.topics[2].words[-1] == "sr"
    assert [len(t.words) for t in block.topics] == [20, 20, 20]
    assert not block.word_ids


def test_without_wetc_the_single_score_is_tu_and_ids_are_words() -> None:
    lines = [
        "Topics from epoch:final (num_topics:2) [tu 0.90]",  # the notebook's header: no colon
        "[0.80] 12 7 300",
        "[1.00] 4 5 6",
    ]
    block = final_block(PREFIX + line for line in lines)
    assert block is not None
    assert (block.wetc, block.tu) == (None, 0.90)
    assert [(t.wetc, t.tu) for t in block.topics] == [(None, 0.80), (None, 1.00)]
    assert block.word_ids
    assert block.topics[0].words == ("12", "7", "300")


def test_spacing_and_case_do_not_matter() -> None:
    lines = [
        "  topics   from epoch : final ( num_topics : 2 )  [ WETC 0.5 ,  TU 0.6 ] :  ",
        "[ 0.1 ,0.2 ]   a   b",
        "[0.3,0.4] c d",
    ]
    block = final_block(lines)
    assert block is not None and block.complete
    assert (block.wetc, block.tu) == (0.5, 0.6)
    assert [t.words for t in block.topics] == [("a", "b"), ("c", "d")]
    assert [(t.wetc, t.tu) for t in block.topics] == [(0.1, 0.2), (0.3, 0.4)]


def test_noise_lines_around_and_inside_the_block_are_skipped() -> None:
    lines = [
        PREFIX + "#quality_metric: host=algo-1, epoch=3, validation total_loss <loss>=7.1",
        PREFIX + DOCUMENTED[0],
        "[09/07/2018 12:55:38 WARNING 1] 69 out of 16648 in vocabulary do not have embeddings!",
        PREFIX + DOCUMENTED[1],
        PREFIX + "#progress_metric: host=algo-1, completed 100 % of epochs",
        PREFIX + DOCUMENTED[2],
        PREFIX + DOCUMENTED[3],
        PREFIX + "[0.99, 0.99] a line after the block is not a fourth topic",
        PREFIX + "Serializing model to /opt/ml/model/model_algo-1",
    ]
    block = final_block(lines)
    assert block is not None and block.complete
    assert len(block.topics) == 3
    assert block.topics[1].words[0] == "single"


def test_several_epochs_the_final_block_wins_wherever_it_is() -> None:
    def block(epoch: str, tu: float, word: str) -> list[str]:
        return [
            f"Topics from epoch:{epoch} (num_topics:2) [tu {tu}]:",
            f"[{tu}] {word}1 {word}2",
            f"[{tu}] {word}3 {word}4",
        ]

    lines = block("1", 0.5, "one") + block("final", 0.9, "fin") + block("2", 0.7, "two")
    chosen = final_block(lines)
    assert chosen is not None
    assert (chosen.epoch, chosen.tu, chosen.topics[0].words) == ("final", 0.9, ("fin1", "fin2"))
    assert [b.epoch for b in parse_blocks(lines)] == ["1", "final", "2"]
    # Without a final block: the last complete one.
    assert final_block(block("1", 0.5, "one") + block("2", 0.7, "two")[:2]).epoch == "1"


def test_a_truncated_block_is_incomplete_not_complete() -> None:
    block = final_block([PREFIX + line for line in DOCUMENTED[:3]])
    assert block is not None
    assert not block.complete
    assert (len(block.topics), block.num_topics) == (2, 3)
    # Cut inside a line's prefix: the rest of the block is simply not there.
    assert final_block([PREFIX + DOCUMENTED[0], "[09/07/2018 12:5"]).topics == ()


def test_no_log_and_no_block() -> None:
    assert final_block([]) is None
    assert final_block([PREFIX + "Training finished", PREFIX + "[0.3, 0.4] not a topic"]) is None


def test_the_prefix_is_removed_but_a_score_bracket_is_not() -> None:
    assert strip_prefix(PREFIX + "[0.39, 0.72] game") == "[0.39, 0.72] game"
    assert strip_prefix("[0.39, 0.72] game") == "[0.39, 0.72] game"


def test_messages_holding_several_lines_are_split() -> None:
    block = final_block(["\n".join(DOCUMENTED)])
    assert block is not None and block.complete


def test_uniqueness_follows_the_documented_definition() -> None:
    # cnt: a in 2 topics, b in 1, c in 2 -> topic 1: (1/2 + 1)/2, topic 2: (1/2 + 1/2)/2
    mean, per_topic = topic_uniqueness([["a", "b"], ["a", "c"], ["c", "d"]])
    assert per_topic == [0.75, 0.5, 0.75]
    assert mean == pytest.approx((0.75 + 0.5 + 0.75) / 3)
    assert topic_uniqueness([["x", "y"]] * 4)[0] == pytest.approx(1 / 4)


def test_what_is_written_is_read_back() -> None:
    topics = [["alpha", "beta", "gamma"], ["beta", "delta", "epsilon"], ["zeta", "eta", "theta"]]
    lines = format_topics_block(topics)
    assert lines[0] == "Topics from epoch:final (num_topics:3) [tu 0.89]:"
    block = final_block(PREFIX + line for line in lines)
    assert block is not None and block.complete and block.wetc is None
    assert [list(t.words) for t in block.topics] == topics
    assert [t.tu for t in block.topics] == [0.83, 0.83, 1.0]
    with_wetc = final_block(format_topics_block(topics, wetc=[0.2, 0.4, 0.6]))
    assert with_wetc is not None
    assert with_wetc.wetc == 0.4
    assert [t.wetc for t in with_wetc.topics] == [0.2, 0.4, 0.6]


def test_a_wetc_that_is_not_a_number_is_left_out() -> None:
    lines = [
        "Topics from epoch:final (num_topics:2) [wetc nan, tu 0.75]:",
        "[nan, 0.5] 1 2",
        "[0.1] 3 4",
    ]
    block = final_block(lines)
    assert block is not None and block.complete
    assert (block.wetc, block.tu) == (None, 0.75)
    assert [(t.wetc, t.tu) for t in block.topics] == [(None, 0.5), (None, 0.1)]


def test_without_a_final_or_complete_block_the_last_block_is_reported() -> None:
    lines = [
        "Topics from epoch:1 (num_topics:3) [tu 0.5]:",
        "[0.5] a b",
        "Topics from epoch:2 (num_topics:3) [tu 0.6]:",
        "[0.6] c d",
        "[0.7] e f",
        "Topics from epoch:3 (num_topics:3) [tu 0.7]:",
        "[0.8] g h",
    ]
    block = final_block(lines)
    assert block is not None
    assert (block.epoch, block.complete, block.topics[0].words) == ("3", False, ("g", "h"))


def test_a_header_with_wetc_alone_makes_single_scores_wetc() -> None:
    block = final_block(
        ["Topics from epoch:final (num_topics:2) [wetc 0.4]:", "[0.3] a b", "[0.5]"]
    )
    assert block is not None
    assert (block.wetc, block.tu) == (0.4, None)
    assert [(t.wetc, t.tu, t.words) for t in block.topics] == [
        (0.3, None, ("a", "b")),
        (0.5, None, ()),
    ]
    # The next header without WETC: single scores are TU again.
    block = final_block(
        [
            "Topics from epoch:1 (num_topics:1) [wetc 0.4]:",
            "[0.3] a",
            "Topics from epoch:final (num_topics:1) [tu 0.9]:",
            "[0.9] b",
        ]
    )
    assert block is not None
    assert [(t.wetc, t.tu) for t in block.topics] == [(None, 0.9)]


def test_one_log_message_may_hold_several_lines_and_blocks() -> None:
    message = "\n".join(
        [
            "Topics from epoch:1 (num_topics:1) [tu 0.5]:",
            "[0.5] a",
            "another log line after the block",
            "Topics from epoch:final (num_topics:2) [tu 0.75]:",
            "[0.5] b c",
            "another log line inside the block",
            "[1.0] d e",
        ]
    )
    blocks = parse_blocks([message])
    assert [(b.epoch, b.complete) for b in blocks] == [("1", True), ("final", True)]
    assert [t.words for t in blocks[1].topics] == [("b", "c"), ("d", "e")]


def test_uniqueness_of_a_topic_without_words_is_zero() -> None:
    assert topic_uniqueness([["a", "b"], []]) == (0.5, [1.0, 0.0])
    assert topic_uniqueness([]) == (0.0, [])
