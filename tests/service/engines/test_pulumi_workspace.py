"""An older version's workspace: its secrets settings are read, and it goes only once the
stack's state carries the same ones."""

from __future__ import annotations

from pathlib import Path

from service.engines.pulumi_workspace import forget_legacy_workspace, legacy_secrets_settings

SALT = "v1:abc=:v1:def:ghi=="


def _legacy(tmp_path: Path, settings: str) -> Path:
    folder = tmp_path / "workspaces" / "shop"
    folder.mkdir(parents=True)
    (folder / "Pulumi.shop.yaml").write_text(settings)
    return tmp_path / "workspaces"


def test_the_folder_stays_until_the_state_carries_its_salt(tmp_path: Path) -> None:
    legacy = _legacy(tmp_path, f"encryptionsalt: {SALT}\nconfig: {{}}\n")
    assert legacy_secrets_settings(legacy, "shop") == {"encryptionsalt": SALT}

    forget_legacy_workspace(legacy, "shop", {"resources": []})  # an older CLI's: no provider
    forget_legacy_workspace(legacy, "shop", {"secrets_providers": {
        "type": "passphrase", "state": {"salt": "v1:another"}}})  # fmt: skip
    assert (legacy / "shop").exists()

    forget_legacy_workspace(legacy, "shop", {"secrets_providers": {
        "type": "passphrase", "state": {"salt": SALT}}})  # fmt: skip
    assert not (legacy / "shop").exists()


def test_a_kms_key_s_settings_go_once_the_state_holds_the_same_data_key(tmp_path: Path) -> None:
    legacy = _legacy(tmp_path, "secretsprovider: awskms://alias/x\nencryptedkey: S0VZ\n")
    provider = {"type": "cloud", "state": {"url": "awskms://alias/x", "encryptedkey": "S0VZ"}}

    forget_legacy_workspace(legacy, "shop", {"secrets_providers": provider})

    assert not (legacy / "shop").exists()


def test_no_folder_no_settings(tmp_path: Path) -> None:
    assert legacy_secrets_settings(tmp_path / "nowhere", "shop") == {}
    assert legacy_secrets_settings(None, "shop") == {}
