"""``fsreg`` commands that change a registry or fetch and use what is in a store.

Everything the Python API can change in a registry can be done from a shell script:
describe, tag and untag, transition, rename, delete and copy (register and alias are in
``registry_commands``). ``artifacts download`` and ``predict`` fetch and use models.
"""

from __future__ import annotations

import os
import shutil
from typing import Annotated, Any

import typer

from fsregistry.cli import completion
from fsregistry.cli.common import (
    JsonFlag,
    RegistryUri,
    TrackingUri,
    group,
    use_stores,
)
from fsregistry.cli.output import print_json
from fsregistry.cli.progress import spinner
from fsregistry.cli.stores import check_stores_for_uri, make_client, registry_client

ModelName = Annotated[
    str, typer.Argument(help="Registered model name.", shell_complete=completion.model_names)
]
VersionOpt = Annotated[
    str | None,
    typer.Option(
        "--version",
        "-v",
        help="A version of the model (default: the model itself).",
        shell_complete=completion.versions,
    ),
]


def register(app: typer.Typer) -> None:
    """Attach the management and fetch commands to the top-level CLI."""

    @app.command("describe")
    def describe(
        name: ModelName,
        description: Annotated[str, typer.Argument(help="New description ('' clears it).")],
        version: VersionOpt = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Set the description of a model, or of one version with --version."""
        client = registry_client(tracking_uri, registry_uri)
        if version is None:
            client.update_registered_model(name, description)
            print(f"Described {name}")
        else:
            client.update_model_version(name, version, description)
            print(f"Described {name} version {version}")

    @app.command("tag")
    def tag(
        name: ModelName,
        key: Annotated[str, typer.Argument(help="Tag key.")],
        value: Annotated[str, typer.Argument(help="Tag value.")],
        version: VersionOpt = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Set a tag on a model, or on one version with --version."""
        client = registry_client(tracking_uri, registry_uri)
        if version is None:
            client.set_registered_model_tag(name, key, value)
        else:
            client.set_model_version_tag(name, version, key, value)
        print(f"Tagged {name}{'' if version is None else ' version ' + version}: {key}={value}")

    @app.command("untag")
    def untag(
        name: ModelName,
        key: Annotated[str, typer.Argument(help="Tag key to delete.")],
        version: VersionOpt = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Delete a tag from a model, or from one version with --version."""
        client = registry_client(tracking_uri, registry_uri)
        if version is None:
            client.delete_registered_model_tag(name, key)
        else:
            client.delete_model_version_tag(name, version, key)
        print(f"Untagged {name}{'' if version is None else ' version ' + version}: {key}")

    @app.command("transition")
    def transition(
        name: ModelName,
        version: Annotated[
            str, typer.Argument(help="Version number.", shell_complete=completion.versions)
        ],
        stage: Annotated[str, typer.Argument(help="None, Staging, Production or Archived.")],
        archive_existing: Annotated[
            bool, typer.Option("--archive-existing", help="Archive other versions in that stage.")
        ] = False,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Move a version to a stage (MLflow's deprecated but still used stages); with
        --archive-existing, also says which versions it archived."""
        client = registry_client(tracking_uri, registry_uri)
        before = _stages(client, name) if archive_existing else {}
        mv = client.transition_model_version_stage(
            name, version, stage, archive_existing_versions=archive_existing
        )
        print(f"{name} version {mv.version} -> {mv.current_stage}")
        if archive_existing:
            after = _stages(client, name)
            was = mv.current_stage
            for number in sorted(after, key=int):
                if number != str(mv.version) and before.get(number) == was != after[number]:
                    print(f"{name} version {number} -> {after[number]} (was {was})")

    @app.command("rename")
    def rename(
        name: ModelName,
        new_name: Annotated[str, typer.Argument(help="New model name.")],
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Rename a model, keeping its versions, tags and aliases."""
        registry_client(tracking_uri, registry_uri).rename_registered_model(name, new_name)
        print(f"Renamed {name} -> {new_name}")

    @app.command("delete")
    def delete(
        name: ModelName,
        version: VersionOpt = None,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
        ] = False,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Delete a model (all versions), or one version with --version."""
        what = name if version is None else f"{name} version {version}"
        if not yes and not typer.confirm(f"Delete {what}?"):
            raise typer.Exit(1)
        client = registry_client(tracking_uri, registry_uri)
        if version is None:
            client.delete_registered_model(name)
        else:
            client.delete_model_version(name, version)
        print(f"Deleted {what}")

    @app.command("copy")
    def copy(
        src_model_uri: Annotated[
            str,
            typer.Argument(help="Source version, e.g. models:/churn/3 or models:/churn@champion."),
        ],
        dst_name: Annotated[
            str, typer.Argument(help="Model to add the copy to (created if needed).")
        ],
        src_registry_uri: Annotated[
            str | None,
            typer.Option(
                "--from", help="Registry holding the source (default: the destination's)."
            ),
        ] = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Copy a version into a model; with --from, from another store (files copied)."""
        with spinner(f"Copying {src_model_uri} to {dst_name}"):
            mv = make_client(tracking_uri, registry_uri).copy_model_version(
                src_model_uri, dst_name, src_registry_uri=src_registry_uri
            )
        print(f"Copied {src_model_uri} -> {dst_name} version {mv.version}")

    artifacts_app = group("Fetch artifacts.")
    app.add_typer(artifacts_app, name="artifacts")

    @artifacts_app.command("download")
    def artifacts_download(
        uri: Annotated[
            str, typer.Argument(help="runs:/<run>/<path>, models:/..., or a store URL.")
        ],
        dst: Annotated[
            str,
            typer.Option(
                "--dst", "-d", metavar="DIR", help="Directory to download into (created if needed)."
            ),
        ] = ".",
        progress: Annotated[
            bool | None,
            typer.Option(
                "--progress/--no-progress",
                help="Progress bar on stderr (default: for downloads over 10 MB to a terminal).",
            ),
        ] = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Download a file or directory; prints where it went (--json: {"local_path": ...})."""
        from fsregistry.artifacts import download_artifacts
        from fsregistry.cli.download_progress import DownloadBar

        use_stores(tracking_uri, registry_uri)
        check_stores_for_uri(uri, tracking_uri, registry_uri)
        show = False if as_json and progress is None else progress
        created = not os.path.lexists(dst)
        if created:
            os.makedirs(dst)
        try:
            with DownloadBar(uri.rstrip("/").rsplit("/", 1)[-1], show) as bar:
                local_path = download_artifacts(artifact_uri=uri, dst_path=dst, progress=bar)
        except BaseException:
            if created:  # all or nothing: the directory made for this download goes too
                shutil.rmtree(dst)
            raise
        if as_json:
            print_json({"local_path": local_path})
        else:
            print(local_path)

    @app.command("predict")
    def predict(
        model_uri: Annotated[
            str, typer.Option("--model-uri", "-m", help="Model URI, e.g. models:/churn@champion.")
        ],
        input_path: Annotated[
            str, typer.Option("--input-path", "-i", help="Input file (.json or .csv).")
        ],
        output_path: Annotated[
            str | None,
            typer.Option("--output-path", "-o", help="Write predictions here (default: stdout)."),
        ] = None,
        content_type: Annotated[
            str | None,
            typer.Option(
                "--content-type",
                "-c",
                metavar="json|csv",
                help="json or csv (default: from the file name).",
            ),
        ] = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        env_manager: Annotated[
            str,
            typer.Option(
                "--env-manager",
                help="local: this Python environment; virtualenv (or uv, built with uv): the "
                "model's own environment (built once from its python_env.yaml, see 'fsreg "
                "models prepare-env').",
            ),
        ] = "local",
    ) -> None:
        """Predict with a model, in the current Python environment or (--env-manager
        virtualenv) in the model's own; prints JSON predictions ({"predictions": [...]})
        unless --output-path is given.

        JSON input: {"dataframe_split": ...}, {"dataframe_records": ...}, {"inputs": ...} or
        {"instances": ...}, or a file pandas wrote with orient="split" or "records". The input
        is checked before the model is loaded."""
        from fsregistry.cli.predict_input import check_input
        from fsregistry.models import predict as run_predict

        if env_manager not in ("local", "virtualenv", "uv"):
            raise typer.BadParameter(
                f"{env_manager!r}: expected local, virtualenv or uv", param_hint="--env-manager"
            )
        use_stores(tracking_uri, registry_uri)
        kind = content_type or ("csv" if input_path.lower().endswith(".csv") else "json")
        if kind not in ("json", "csv"):
            raise typer.BadParameter(f"content type {kind!r}: expected json or csv")
        checked = check_input(input_path, kind)
        try:
            check_stores_for_uri(model_uri, tracking_uri, registry_uri)
            if env_manager != "local":
                from fsregistry.cli.env_commands import log_progress_to_stderr

                log_progress_to_stderr()
            run_predict(
                model_uri,
                input_path=checked.path,
                content_type="csv" if kind == "csv" else "json",
                output_path=output_path,
                env_manager=env_manager,
            )
        finally:
            checked.cleanup()


def _stages(client: Any, name: str) -> dict[str, str]:
    """Each version of ``name`` (as a string) and its stage."""
    quoted = name.replace("'", "\\'")
    versions = client.search_model_versions(f"name = '{quoted}'")
    return {str(v.version): v.current_stage for v in versions}
