"""A rollup project: the folder ``rollupkit scaffold new`` renders, and what runs it.

* :mod:`~rollupkit.project.config` reads ``rollup.toml`` (and checks the combination of
  plugins it names);
* :mod:`~rollupkit.project.hooks` loads the project's customisation hooks;
* :mod:`~rollupkit.project.deployment` deploys the rollup's L1 contracts once and finds them
  again on the next run;
* :mod:`~rollupkit.project.runner` starts the L1, the contracts and the node
  (``rollupkit up``);
* :mod:`~rollupkit.project.journey` walks a deposit, an L2 transfer and a withdrawal through
  settlement (``rollupkit demo`` and the generated end-to-end test).
"""

from rollupkit.project.config import ProjectConfig, ProjectError, check_combination, load_project

__all__ = ["ProjectConfig", "ProjectError", "check_combination", "load_project"]
