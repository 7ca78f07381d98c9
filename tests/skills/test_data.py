"""The responses and items CSV contracts: every malformed input is named by line and column."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.skills.data import DataError, read_responses_csv, read_scoring_csv

GOOD = "respondent_id,q1,q2,q3\nr1,1,2,3\nr2,2,3,1\nr3,3,1,2\nr4,,2,2\n"


def write(tmp_path, text, name="r.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_a_good_file(tmp_path):
    d = read_responses_csv(write(tmp_path, GOOD))
    assert d.respondent_ids == ("r1", "r2", "r3", "r4")
    assert d.items.dimensions == ("general",) and list(d.items.n_categories) == [3, 3, 3]
    assert d.y[3, 0] == -1 and d.y[0, 0] == 0 and d.y[0, 2] == 2


def test_items_file_dimensions_and_reverse_keying(tmp_path):
    items = write(tmp_path, "item_id,dimension,reverse\nq1,a,false\nq2,a,true\nq3,b,\n", "items.csv")
    d = read_responses_csv(write(tmp_path, GOOD), items)
    assert d.items.dimensions == ("a", "b") and list(d.items.dimension) == [0, 0, 1]
    assert d.y[0, 1] == 1 and d.y[1, 1] == 0  # 2 of 1..3 stays 1; 3 becomes 0 when reversed


def test_binary_and_zero_based_items(tmp_path):
    d = read_responses_csv(write(tmp_path, "respondent_id,b1,b2\nr1,0,1\nr2,1,0\nr3,1,1\n"))
    assert list(d.items.first_category) == [0, 0] and list(d.items.n_categories) == [2, 2]


@pytest.mark.parametrize(
    "text,items,words",
    [
        (GOOD.replace("r2,2,3,1", "r2,2,x,1"), None, "line 3, column q2: 'x' is not an integer"),
        (GOOD.replace("r2,2,3,1", "r2,2.5,3,1"), None, "line 3, column q1: '2.5' is not an integer"),
        ("respondent_id,q1\nr1,1\nr2,3\nr3,1\n", None, "column q1: categories must be consecutive, but 2 never occurs"),
        ("respondent_id,q1,q2\nr1,2,1\nr2,2,2\n", None, "column q1: every answer is 2"),
        (GOOD, "item_id,dimension\nq1,a\nq2,a\n", "column q3: unknown item id"),
        (GOOD.replace("r2,2,3,1", "r2,2,7,1"), "item_id,dimension,min_category,max_category\nq1,a,1,5\nq2,a,1,5\nq3,a,1,5\n",
         "line 3, column q2: 7 is outside the declared range 1..5"),
        ("id,q1\nr1,1\n", None, "the first column must be 'respondent_id'"),
        ("respondent_id,rater,q1\nr1,boss,1\nr1,self,2\n", None, "line 2, column rater: 'boss' is not one of"),
        (GOOD.replace("r2,", "r1,"), None, "line 3, column respondent_id: respondent 'r1' appears twice"),
        (GOOD, "item_id,dimension,reverse\nq1,a,maybe\nq2,a,\nq3,a,\n", "line 2, column reverse: 'maybe' is not true or false"),
        (GOOD, "item_id\nq1\n", "missing column 'dimension'"),
        ("respondent_id,q1,q1\nr1,1,2\n", None, "duplicate"),
        (GOOD.replace("r2,2,3,1", "r2,-1,3,1"), None, "line 3, column q1: '-1' is negative"),
    ],
)
def test_malformed_inputs_name_row_and_column(tmp_path, text, items, words):
    ipath = write(tmp_path, items, "items.csv") if items else None
    with pytest.raises(DataError) as err:
        read_responses_csv(write(tmp_path, text), ipath)
    msg = str(err.value)
    assert words in msg and "\n" not in msg, msg


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_responses_csv(tmp_path / "nope.csv")


def test_respondent_without_answers_is_left_out_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="left out 1 row.*ghost"):
        d = read_responses_csv(write(tmp_path, GOOD + "ghost,,,\n"))
    assert "ghost" not in d.respondent_ids and d.dropped == ("ghost",)


def test_multi_rater_rows_share_a_person(tmp_path):
    text = "respondent_id,rater,q1,q2\nL1,self,1,2\nL1,peer,2,1\nL2,self,2,2\nL2,manager,1,1\n"
    d = read_responses_csv(write(tmp_path, text))
    assert d.n_persons == 2 and list(d.person) == [0, 0, 1, 1]
    assert d.rater_types == ("self", "manager", "peer")


def test_scoring_file_checks_against_calibrated_categories(tmp_path):
    from workbench.skills.simulate import make_test

    p = make_test(4, 1, np.random.default_rng(0))
    ok = read_scoring_csv(write(tmp_path, "respondent_id,i01,i03\nx,5,1\n"), p)
    assert ok.y.shape == (1, 4) and ok.y[0, 0] == 4 and ok.y[0, 1] == -1
    with pytest.raises(DataError, match="line 2, column i01: 6 is outside the item's categories 1..5"):
        read_scoring_csv(write(tmp_path, "respondent_id,i01\nx,6\n"), p)
    with pytest.raises(DataError, match="column zz: unknown item id"):
        read_scoring_csv(write(tmp_path, "respondent_id,zz\nx,1\n"), p)
