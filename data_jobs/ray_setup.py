"""Start or join Ray for a job, quiet by default: one progress bar on a terminal, no INFO lines.

``CADSEARCH_VERBOSE=1`` (the CLI's ``-v``) brings back Ray's own INFO logging and its per-stage
progress, for debugging a cluster run.
"""

from __future__ import annotations

import logging
import os

VERBOSE_ENV = "CADSEARCH_VERBOSE"
# Ray's own loggers that print INFO lines on the driver (cluster start, plans, progress logs)
_RAY_LOGGERS = ("ray", "ray.data", "ray.train", "ray.tune")


def verbose() -> bool:
    """Whether the user asked for Ray's own logging (``-v`` / $CADSEARCH_VERBOSE)."""
    return os.environ.get(VERBOSE_ENV, "").strip() not in ("", "0", "false", "no")


def quiet_ray_data() -> None:
    """Ray Data shows one overall progress bar on a terminal and logs only warnings."""
    import ray.data

    context = ray.data.DataContext.get_current()
    loud = verbose()
    # on a terminal a bar; elsewhere Ray Data logs progress at INFO, quiet unless verbose
    context.enable_progress_bars = True
    context.enable_operator_progress_bars = loud  # the overall bar alone: parts/s and ETA
    context.use_ray_tqdm = False  # the driver draws the bar itself, with rich
    context.enable_rich_progress_bars = True
    for name in _RAY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if loud else logging.WARNING)
    # Ray Data warns about its own defaults (disabled operator bars, deprecations): -v only
    logging.getLogger("ray.data").setLevel(logging.INFO if loud else logging.ERROR)


def ensure_ray(address: str | None = None, **init_args) -> bool:
    """Connect to Ray (or start a local one), quiet unless verbose; True when this call
    started it (the caller shuts it down)."""
    import ray

    quiet_ray_data()
    if ray.is_initialized():
        return False
    loud = verbose()
    ray.init(
        address=address,
        include_dashboard=False,
        log_to_driver=loud,  # workers' prints and logs stay in their log files
        logging_level=logging.INFO if loud else logging.WARNING,
        **init_args,
    )
    quiet_ray_data()  # ray.init configures the "ray" loggers again
    return True
