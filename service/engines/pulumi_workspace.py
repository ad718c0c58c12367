"""The Automation API's workspace, kept off the local disk: one temporary folder per operation.

A LocalWorkspace writes two files in its folder (`Pulumi.yaml`, and `Pulumi.<stack>.yaml` with
the secrets provider's settings: the passphrase's `encryptionsalt`, or a KMS key's
`encryptedkey`) and records the selected stack in PULUMI_HOME/workspaces. None of it has to
survive an operation:

- the stack's state carries its secrets provider (`secrets_providers` in the deployment; the
  CLI writes it there from `stack init` on), and
  with PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER the CLI takes it from there when the stack's
  settings file has none (pulumi/pulumi#17236), so the state decrypts from any fresh folder;
- every command the engine runs names its stack (`--stack`), so nothing is selected: stacks are
  made with `stack init --no-select` and found with `stack --show-name`, which selects nothing.

Older versions kept each environment's workspace under `<data dir>/workspaces/<env>`. A stack
whose state does not carry its salt (made by an older CLI and never updated since) would lose it
with that folder: its secrets settings are handed to the first operation here, and the folder
goes once the state carries the same settings.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

# What the stack settings file holds for the secrets provider.
SECRETS_SETTINGS = ("secretsprovider", "encryptionsalt", "encryptedkey")
# The CLI's environment for a workspace that keeps nothing: the secrets provider from the
# state, and no full copy of the checkpoint under `.pulumi/backups/` before every update.
STATELESS_ENV = {
    "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER": "true",
    "PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS": "true",
}


class StatelessWorkspace(auto.LocalWorkspace):
    """A LocalWorkspace that never selects a stack (the CLI's selection is a file in
    PULUMI_HOME, one more per folder, and every command here passes `--stack` anyway)."""

    def create_stack(self, stack_name: str) -> None:
        args = ["stack", "init", stack_name, "--no-select"]
        if self.secrets_provider:
            args.extend(["--secrets-provider", self.secrets_provider])
        self._run_pulumi_cmd_sync(args)

    def select_stack(self, stack_name: str) -> None:
        # Fails with "no stack named ... found" (StackNotFoundError) when there is none.
        self._run_pulumi_cmd_sync(["stack", "--stack", stack_name, "--show-name"])


def legacy_secrets_settings(legacy_dir: Path | None, stack_name: str) -> dict[str, str]:
    """The secrets settings an older version's workspace kept for the stack, if any."""
    if legacy_dir is None:
        return {}
    path = legacy_dir / stack_name / f"Pulumi.{stack_name}.yaml"
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {key: str(document[key]) for key in SECRETS_SETTINGS if document.get(key)}


def stack_settings(settings: dict[str, str]) -> auto.StackSettings:
    return auto.StackSettings(
        secrets_provider=settings.get("secretsprovider"),
        encrypted_key=settings.get("encryptedkey"),
        encryption_salt=settings.get("encryptionsalt"),
    )


def state_carries(settings: dict[str, str], deployment: Mapping[str, Any] | None) -> bool:
    """Whether the deployment's own secrets provider is the one these settings describe: then
    the settings file is no longer needed to decrypt it."""
    provider = (deployment or {}).get("secrets_providers") or {}
    state = provider.get("state") or {}
    if "encryptionsalt" in settings:
        return (
            provider.get("type") == "passphrase" and state.get("salt") == settings["encryptionsalt"]
        )
    if "encryptedkey" in settings:
        return (
            provider.get("type") == "cloud"
            and state.get("encryptedkey") == settings["encryptedkey"]
        )
    return False


def forget_legacy_workspace(
    legacy_dir: Path | None, stack_name: str, deployment: Mapping[str, Any] | None
) -> None:
    """An older version's workspace goes once the state carries its secrets settings."""
    legacy = legacy_secrets_settings(legacy_dir, stack_name)
    if legacy_dir is not None and legacy and state_carries(legacy, deployment):
        shutil.rmtree(legacy_dir / stack_name, ignore_errors=True)
