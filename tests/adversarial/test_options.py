"""Build and config options are checked up front, and the error names the option and value."""

from __future__ import annotations

import pytest

from nlp.config import NlpConfig
from recommend.hybrid.config import CfConfig, ContentConfig, HybridConfig
from recommend.stages.config import EnrichConfig
from scripts.cli import main


@pytest.mark.parametrize(("field", "value", "message"), [
    ("k", 0, "HybridConfig.k must be an integer >= 1, got 0"),
    ("seed", -1, "HybridConfig.seed must be an integer >= 0, got -1"),
    ("content.lsa_dim", 2.5, "HybridConfig.content.lsa_dim must be an integer >= 1, got 2.5"),
    ("cf.ease_lam", 0.0, "HybridConfig.cf.ease_lam must be a finite number > 0, got 0.0"),
    ("cf.ease_lam", float("inf"), "HybridConfig.cf.ease_lam must be a finite number > 0, got inf"),
    ("cf.recency_tau", -3.0, "HybridConfig.cf.recency_tau must be a finite number > 0 or "
                             "None, got -3.0"),
    ("session.window", float("nan"), "HybridConfig.session.window must be a finite number > 0, "
                                     "got nan"),
    ("cf.recency_taus", (None, 0.0), "HybridConfig.cf.recency_taus must be a finite number > 0 "
                                     "or None, got 0.0"),
    ("blend.grid", (0.0, -1.0), "HybridConfig.blend.grid must be a finite number >= 0, got -1.0"),
    ("cf.als_reg", True, "HybridConfig.cf.als_reg must be a finite number >= 0, got True"),
    ("split.max_fit_users", 0, "HybridConfig.split.max_fit_users must be an integer >= 1, got 0"),
    ("cf.model", "svd", "HybridConfig.cf.model: 'svd' is not one of ('auto', 'ease', 'als', "
                        "'itemknn')"),
    ("cf.families", ("ease", "knn"), "HybridConfig.cf.families: 'knn' is not one of"),
    ("split.selection_share", 1.0, "HybridConfig.split.selection_share must be below 1"),
    ("split.cross_fit_parts", 1, "HybridConfig.split.cross_fit_parts must be an integer >= 2"),
    ("split.holdout_mode", "latest", "HybridConfig.split.holdout_mode: 'latest' is not one of"),
    ("content.encoder", "bert", "HybridConfig.content.encoder: 'bert' is not one of"),
    ("split.holdout_fraction", 1.0, "HybridConfig.split.holdout_fraction must be below 1, "
                                    "got 1.0"),
    ("split.holdout_fraction", 0.0, "HybridConfig.split.holdout_fraction must be a finite "
                                    "number > 0"),
])
def test_hybrid_config_ranges(field: str, value: object, message: str) -> None:
    section, _, name = field.rpartition(".")
    with pytest.raises(ValueError) as caught:
        HybridConfig().updated(**({section: {name: value}} if section else {name: value}))
    assert str(caught.value).startswith(message)


def test_hybrid_config_names_an_unknown_key_with_its_section() -> None:
    with pytest.raises(ValueError, match=r"unknown HybridConfig.cf keys \['lambda'\]"):
        HybridConfig.from_dict({"cf": {"lambda": 3.0}})
    with pytest.raises(ValueError, match=r"unknown HybridConfig keys \['colour'\]"):
        HybridConfig.from_dict({"colour": "red"})


def test_an_older_flat_config_loads_into_its_sections() -> None:
    old = {"cf_model": "als", "als_regs": [1.0, 10.0], "session_window": 60.0,
           "path_min_share": 0.02, "privacy_min_people": 7, "k": 5,
           "audience_activity_taus": [1.0]}  # retired: dropped
    config = HybridConfig.from_dict(old)
    assert (config.cf.model, config.cf.als_regs, config.session.window) == ("als", (1.0, 10.0),
                                                                             60.0)
    assert (config.paths.min_share, config.privacy.min_people, config.k) == (0.02, 7, 5)
    assert config.content == HybridConfig().content


def test_hybrid_config_defaults_and_a_json_round_trip_pass() -> None:
    config = HybridConfig(content=ContentConfig(encoder="lsa"),
                          cf=CfConfig(recency_tau=None, recency_taus=(None, 5.0)))
    assert HybridConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(("field", "value", "message"), [
    ("clip_epochs", 0, "EnrichConfig.clip_epochs must be an integer >= 1, got 0"),
    ("clip_heldout_fraction", 1.0, "EnrichConfig.clip_heldout_fraction must be a number in "
                                   "[0, 1), got 1.0"),
    ("rules_min_support", -0.1, "EnrichConfig.rules_min_support must be a number in [0, 1], "
                                "got -0.1"),
    ("rules_min_baskets", 0, "EnrichConfig.rules_min_baskets must be an integer >= 1, got 0"),
])
def test_enrich_config_ranges(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        EnrichConfig(**{field: value})
    assert str(caught.value) == message


@pytest.mark.parametrize("value", [0, 1_000_001, True])
def test_nlp_max_text_chars_range(value: object) -> None:
    with pytest.raises(ValueError, match=rf"NlpConfig.max_text_chars must be an integer in "
                                         rf"1..1000000, got {value!r}"):
        NlpConfig(max_text_chars=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--clip-epochs", "0", "argument --clip-epochs: must be an integer >= 1, got '0'"),
    ("--clip-epochs", "ten", "argument --clip-epochs: must be an integer >= 1, got 'ten'"),
    ("--image-max-pixels", "-5", "argument --image-max-pixels: must be an integer >= 1, got '-5'"),
    ("--image-max-side", "0", "argument --image-max-side: must be an integer >= 1, got '0'"),
    ("--image-max-aspect", "0.5", "argument --image-max-aspect: must be a finite ratio >= 1, got"
                                  " '0.5'"),
    ("--image-max-aspect", "inf", "argument --image-max-aspect: must be a finite ratio >= 1, got"
                                  " 'inf'"),
    ("--max-text-chars", "0", "argument --max-text-chars: must be an integer >= 1, got '0'"),
    ("--future-tolerance-days", "nan", "argument --future-tolerance-days: must be a finite "
                                       "number >= 0, got 'nan'"),
    ("--future-tolerance-days", "-1", "argument --future-tolerance-days: must be a finite "
                                      "number >= 0, got '-1'"),
    ("--earliest", "yesterday", "argument --earliest: must be an ISO 8601 date such as "
                                "1990-01-01, got 'yesterday'"),
])
def test_build_cli_rejects_bad_numbers_naming_them(tmp_path, capsys, flag: str, value: str,
                                                   message: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["build", str(tmp_path), "--out", str(tmp_path / "art"), flag, value])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "art").exists()


def test_build_cli_checks_ranges_past_argparse(tmp_path, capsys) -> None:
    (tmp_path / "users.jsonl").write_text('{"id": "u1"}\n')
    code = main(["build", str(tmp_path), "--out", str(tmp_path / "art"), "--no-progress",
                 "--max-text-chars", "2000000", "--no-vision", "--no-profiles", "--no-models"])
    assert code == 2
    assert ("--max-text-chars: NlpConfig.max_text_chars must be an integer in 1..1000000, got "
            "2000000") in capsys.readouterr().err
    code = main(["build", str(tmp_path), "--out", str(tmp_path / "art"), "--graph-only",
                 "--earliest", "2999-01-01"])
    assert code == 2 and "--earliest: TimeWindow: latest" in capsys.readouterr().err
    assert not (tmp_path / "art").exists()
