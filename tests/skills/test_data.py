"""The responses and items CSV contracts: every malformed input is named by line and column."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


@pytest.mark.parametrize(
    "text,words",
    [
        (GOOD.replace("r2,2,3,1", "r2,2,1000000000000000000000000000000,1"),
         "line 3, column q2: '100000000000000000000000'... (31 characters) is too large; categories are integers from 0 to 100"),
        (GOOD.replace("r2,2,3,1", "r2,2,1e30,1"), "line 3, column q2: '1e30' is too large"),
        (GOOD.replace("r2,2,3,1", "r2,2,101,1"), "line 3, column q2: '101' is too large"),
        (GOOD.replace("r2,2,3,1", "r2,2,inf,1"), "line 3, column q2: 'inf' is not an integer"),
        (GOOD.replace("r2,2,3,1", "r2,2," + "9" * 400 + ",1"), "line 3, column q2"),
    ],
)
def test_huge_numbers_are_refused_with_line_and_column(tmp_path, text, words):
    with pytest.raises(DataError) as err:
        read_responses_csv(write(tmp_path, text))
    assert words in str(err.value) and str(err.value).startswith(str(tmp_path)) and "\n" not in str(err.value)


def test_a_hundred_is_still_a_category(tmp_path):
    d = read_responses_csv(write(tmp_path, "respondent_id,q1\nr1,99\nr2,100\n"))
    assert list(d.items.first_category) == [99]


@pytest.mark.parametrize(
    "items,words",
    [
        ("item_id,dimension,min_category,max_category\nq1,a,1,1e30\nq2,a,,\nq3,a,,\n",
         "line 2, column max_category: '1e30' is not an integer"),
        ("item_id,dimension,min_category,max_category\nq1,a,1,99999999999999999999999\nq2,a,,\nq3,a,,\n",
         "line 2, column max_category: '99999999999999999999999' is outside 0..100"),
        ("item_id,dimension,min_category,max_category\nq1,a,5,1\nq2,a,,\nq3,a,,\n",
         "line 2, column max_category: 1 is not above min_category 5"),
    ],
)
def test_declared_ranges_are_bounded(tmp_path, items, words):
    with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_responses_csv(write(tmp_path, GOOD), write(tmp_path, items, "items.csv"))


def test_items_file_naming_missing_items_is_refused(tmp_path):
    items = write(tmp_path, "item_id,dimension\nq1,a\nq2,a\nq3,b\nq9,b\nq8,a\n", "items.csv")
    with pytest.raises(DataError) as err:
        read_responses_csv(write(tmp_path, GOOD), items)
    assert str(err.value) == (f"{items}: line 5, column item_id: 2 item(s) not in the responses "
                              f"{tmp_path / 'r.csv'}: q9, q8")


def test_scoring_refuses_a_repeated_respondent(tmp_path):
    from workbench.skills.simulate import make_test

    p = make_test(4, 1, np.random.default_rng(0))
    with pytest.raises(DataError) as err:
        read_scoring_csv(write(tmp_path, "respondent_id,i01,i02\nx,5,1\ny,2,2\nx,1,1\n"), p)
    assert "line 4, column respondent_id: respondent 'x' appears twice (first on line 2" in str(err.value)


def test_scoring_multi_rater_allows_several_peers_but_one_self(tmp_path):
    from workbench.skills.simulate import make_test

    p = make_test(4, 1, np.random.default_rng(0))
    ok = read_scoring_csv(write(tmp_path, "respondent_id,rater,i01\nx,self,5\nx,peer,1\nx,peer,2\nx,manager,3\n"), p)
    assert ok.n_persons == 1 and len(ok.y) == 4
    with pytest.raises(DataError, match="line 4, column rater: respondent 'x' has a second 'self' sheet "
                                        r"\(first on line 2\)"):
        read_scoring_csv(write(tmp_path, "respondent_id,rater,i01\nx,self,5\nx,peer,1\nx,self,2\n"), p)


def test_calibration_multi_rater_keeps_retakes(tmp_path):
    text = "respondent_id,rater,q1,q2\nL1,self,1,2\nL1,self,2,1\nL2,self,2,2\nL2,peer,1,1\n"
    d = read_responses_csv(write(tmp_path, text))
    assert d.n_persons == 2 and len(d.y) == 4


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_RESPONSES_MB", "0.001")
    path = write(tmp_path, GOOD * 30)
    with pytest.raises(DataError, match=r"r.csv: responses CSV is 1.7 KB; the limit is 0.001 MB \(set "
                                        "WORKBENCH_MAX_RESPONSES_MB to change it\\)"):
        read_responses_csv(path)
    monkeypatch.setenv("WORKBENCH_MAX_RESPONSES_MB", "lots")
    with pytest.raises(DataError, match="WORKBENCH_MAX_RESPONSES_MB='lots' is not a number"):
        read_responses_csv(path)


def test_chunked_reading_names_the_line_in_a_later_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr("workbench.skills.data.CHUNK_ROWS", 2)
    text = GOOD.replace("r4,,2,2", "r4,,2,1e30")
    with pytest.raises(DataError, match=r"r\.csv: line 5, column q3: '1e30' is too large"):
        read_responses_csv(write(tmp_path, text))
    with pytest.raises(DataError, match=r"r\.csv: line 5, column q2: 'x' is not an integer"):
        read_responses_csv(write(tmp_path, GOOD.replace("r4,,2,2", "r4,,x,2")))


def test_fast_and_text_paths_read_the_same_values(tmp_path, monkeypatch):
    """Spaces, '3.0' and empty cells; the fast path and the text path must agree."""
    from workbench.skills import data as data_mod

    text = "respondent_id,rater,q1,q2\nL1,self, 1 ,2.0\nL1,peer,2,\nL2,Self,,1\nL2,peer,1,2\n"
    fast = read_responses_csv(write(tmp_path, text))
    monkeypatch.setattr(data_mod, "_NotCategories", ValueError)  # any ValueError sends the read down the text path

    def text_only(path, cols, has_rater, item_cols, *, numeric, source):
        return original(path, cols, has_rater, item_cols, numeric=False, source=source)

    original = data_mod._read_chunks
    monkeypatch.setattr(data_mod, "_read_chunks", text_only)
    slow = read_responses_csv(write(tmp_path, text))
    assert np.array_equal(fast.y, slow.y) and fast.respondent_ids == slow.respondent_ids
    assert list(fast.rater) == ["self", "peer", "self", "peer"] and fast.y[1, 1] == -1


def test_scoring_reads_only_known_items_first(tmp_path):
    from workbench.skills.simulate import make_test

    p = make_test(4, 1, np.random.default_rng(0))
    with pytest.raises(DataError, match="column zz: unknown item id"):
        read_scoring_csv(write(tmp_path, "respondent_id,i01,zz\nx,1e30,1\n"), p)
    with pytest.raises(DataError, match=r"line 2, column i01: '1e30' is too large"):
        read_scoring_csv(write(tmp_path, "respondent_id,i01\nx,1e30\n"), p)


def test_scores_csv_contract_quotes_ids_and_rounds(tmp_path):
    from workbench.skills.data import write_scores_csv
    from workbench.skills.score import Scores

    mean = np.array([[0.123456789, -1.0], [2.0, 1e-7]])
    sd = np.array([[0.5, 0.25], [0.333333333, 1.0]])
    sc = Scores(("lead", "care"), mean, sd, np.ones((2, 2), int), np.zeros(3))
    path = write_scores_csv(tmp_path / "out" / "s.csv", ("a,1", 'say "hi"'), sc)
    back = pd.read_csv(path, dtype={"respondent_id": str})
    assert list(back.columns) == ["respondent_id", "lead_mean", "lead_sd", "care_mean", "care_sd"]
    assert back.respondent_id.tolist() == ["a,1", 'say "hi"']
    np.testing.assert_allclose(back[["lead_mean", "care_mean"]].to_numpy(), mean.round(5))
    np.testing.assert_allclose(back[["lead_sd", "care_sd"]].to_numpy(), sd.round(5))
