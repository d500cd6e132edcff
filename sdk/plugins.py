"""Finding, checking and handing out plugins.

Plugins are modules named by entry points in the ``rollupkit`` group. rollupkit's own VMs and
state models are registered the same way (see ``pyproject.toml``), so there is one code path
for built-in and third-party plugins.

Set ``ROLLUPKIT_TRACE_PLUGINS=1`` to print every hook call, its arguments and its results to
standard error. Set ``ROLLUPKIT_PLUGINS=builtin`` to load only rollupkit's own plugins (the test
suite does this so that plugins installed on a developer's machine cannot change its results).
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from rollupkit import hookspecs
from rollupkit.errors import PluginError, PluginRegistrationError, UnknownPluginError
from rollupkit.interfaces import PLUGIN_KINDS

ENTRY_POINT_GROUP = "rollupkit"
BUILTIN_DISTRIBUTION = "rollupkit"
TRACE_ENV = "ROLLUPKIT_TRACE_PLUGINS"
SELECT_ENV = "ROLLUPKIT_PLUGINS"

hookimpl = pluggy.HookimplMarker("rollupkit")

_NAME_RULE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_HOOK_PREFIX = "rollupkit_"


@dataclass(frozen=True)
class PluginInfo:
    """One registered class: what ``rollupkit plugins list`` prints."""

    name: str
    kind: str
    cls: type
    plugin: str  # the module (entry point) that registered it
    version: str
    origin: str  # "built-in", or the distribution that installed it

    @property
    def description(self) -> str:
        """The class's one-line description (its ``description`` or docstring's first line)."""
        text = getattr(self.cls, "description", "") or (inspect.getdoc(self.cls) or "")
        return text.strip().splitlines()[0] if text.strip() else ""


def valid_hook_names() -> list[str]:
    """Every hook a plugin may implement."""
    return sorted(n for n in dir(hookspecs) if n.startswith(_HOOK_PREFIX))


def _missing_abstract_methods(cls: type) -> list[str]:
    return sorted(getattr(cls, "__abstractmethods__", ()))


class PluginRegistry:
    """Registered plugins by kind and name; create instances with :meth:`create`."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager("rollupkit")
        self._pm.add_hookspecs(hookspecs)
        self._plugins: dict[str, tuple[str, str]] = {}  # module name -> (version, origin)
        self._by_kind: dict[str, dict[str, PluginInfo]] = {kind: {} for kind in PLUGIN_KINDS}
        self._tracing = os.environ.get(TRACE_ENV, "").strip() not in ("", "0", "false", "no")
        if self._tracing:
            self._enable_tracing()

    # --- registration -----------------------------------------------------------------------

    def register(
        self,
        plugin: ModuleType | object,
        *,
        name: str | None = None,
        version: str = "0",
        origin: str = "local",
    ) -> None:
        """Register a plugin module (or object) and validate everything it registers.

        Raises :class:`PluginRegistrationError` naming an unknown hook (and the valid ones), a
        class that is not of the right kind or still has abstract methods (naming them), a bad
        name, or a name already taken by another plugin.
        """
        plugin_name = name or getattr(plugin, "__name__", None) or repr(plugin)
        self._check_hook_names(plugin, plugin_name)
        if self._pm.is_registered(plugin) or plugin_name in self._plugins:
            raise PluginRegistrationError(f"plugin {plugin_name!r} is already registered")
        try:
            self._pm.register(plugin, name=plugin_name)
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self._unregister(plugin, plugin_name)
            raise PluginRegistrationError(f"plugin {plugin_name!r}: {exc}") from exc
        self._plugins[plugin_name] = (version, origin)
        try:
            self._collect(plugin, plugin_name)
        except PluginRegistrationError:
            self._unregister(plugin, plugin_name)
            raise

    def _unregister(self, plugin: object, plugin_name: str) -> None:
        if self._pm.is_registered(plugin):
            self._pm.unregister(plugin)
        self._plugins.pop(plugin_name, None)
        for kind_map in self._by_kind.values():
            for key in [k for k, info in kind_map.items() if info.plugin == plugin_name]:
                del kind_map[key]

    def _check_hook_names(self, plugin: object, plugin_name: str) -> None:
        valid = set(valid_hook_names())
        for attr in dir(plugin):
            is_hook = attr.startswith(_HOOK_PREFIX) and callable(getattr(plugin, attr))
            if is_hook and attr not in valid:
                raise PluginRegistrationError(
                    f"plugin {plugin_name!r} defines unknown hook {attr!r}; valid hooks: "
                    + ", ".join(sorted(valid))
                )

    def _collect(self, plugin: object, plugin_name: str) -> None:
        version, origin = self._plugins[plugin_name]
        for kind, (base, hook_name) in PLUGIN_KINDS.items():
            impl = getattr(plugin, hook_name, None)
            if impl is None:
                continue
            try:
                pairs = list(impl() or ())
                if self._tracing:
                    print(f"[rollupkit] {plugin_name}.{hook_name}() -> {pairs!r}", file=sys.stderr)
            except Exception as exc:
                raise PluginRegistrationError(
                    f"plugin {plugin_name!r}: {hook_name}() raised {type(exc).__name__}: {exc}"
                ) from exc
            for pair in pairs:
                if not (isinstance(pair, tuple) and len(pair) == 2):
                    raise PluginRegistrationError(
                        f"plugin {plugin_name!r}: {hook_name}() must return (name, class) pairs,"
                        f" got {pair!r}"
                    )
                name, cls = pair
                self._check_class(plugin_name, kind, base, name, cls)
                taken = self._by_kind[kind].get(name)
                if taken is not None:
                    raise PluginRegistrationError(
                        f"plugin {plugin_name!r} registers {kind} {name!r}, which plugin "
                        f"{taken.plugin!r} ({taken.origin}) already registered"
                    )
                self._by_kind[kind][name] = PluginInfo(
                    name, kind, cls, plugin_name, version, origin
                )

    @staticmethod
    def _check_class(plugin_name: str, kind: str, base: type, name: object, cls: object) -> None:
        where = f"plugin {plugin_name!r} registers {kind} {name!r}"
        if not isinstance(name, str) or not _NAME_RULE.match(name):
            raise PluginRegistrationError(
                f"plugin {plugin_name!r}: {kind} name {name!r} is invalid (use lowercase "
                "letters, digits, '-' and '_', starting with a letter, at most 40 characters)"
            )
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginRegistrationError(
                f"{where}: {cls!r} is not a subclass of rollupkit.interfaces.{base.__name__}"
            )
        missing = _missing_abstract_methods(cls)
        if missing:
            raise PluginRegistrationError(
                f"{where}: class {cls.__name__} does not implement "
                + ", ".join(f"{base.__name__}.{m}" for m in missing)
            )

    def load_entry_points(self, *, only_builtin: bool = False) -> None:
        """Register every plugin named in the ``rollupkit`` entry-point group."""
        seen: set[str] = set()
        for entry_point in sorted(
            metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
        ):
            dist = entry_point.dist
            dist_name = dist.metadata["Name"] if dist is not None else "unknown"
            if only_builtin and dist_name != BUILTIN_DISTRIBUTION:
                continue
            if entry_point.name in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(entry_point.name)
            try:
                module = entry_point.load()
            except Exception as exc:
                raise PluginError(
                    f"cannot load plugin {entry_point.name!r} ({entry_point.value}) from "
                    f"package {dist_name!r}: {type(exc).__name__}: {exc}"
                ) from exc
            origin = "built-in" if dist_name == BUILTIN_DISTRIBUTION else dist_name
            version = dist.version if dist is not None else "0"
            self.register(module, name=entry_point.name, version=version, origin=origin)

    # --- lookup -----------------------------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        """Registered names of ``kind``, sorted."""
        return sorted(self._kind(kind))

    def info(self, kind: str, name: str) -> PluginInfo:
        """The registration of ``name``; raises :class:`UnknownPluginError` if absent."""
        try:
            return self._kind(kind)[name]
        except KeyError:
            raise UnknownPluginError(kind, name, self.names(kind)) from None

    def get(self, kind: str, name: str) -> type:
        """The class registered as ``name`` of ``kind``."""
        return self.info(kind, name).cls

    def create(self, kind: str, name: str) -> Any:
        """A new instance of the class registered as ``name`` of ``kind``."""
        return self.get(kind, name)()

    def all(self) -> list[PluginInfo]:
        """Every registration, sorted by kind then name."""
        return [info for kind in PLUGIN_KINDS for _, info in sorted(self._kind(kind).items())]

    def _kind(self, kind: str) -> dict[str, PluginInfo]:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise PluginError(
                f"unknown plugin kind {kind!r} (valid: {', '.join(PLUGIN_KINDS)})"
            ) from None

    # --- tracing ----------------------------------------------------------------------------

    def _enable_tracing(self) -> None:
        def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
            names = ", ".join(impl.plugin_name for impl in impls)
            print(f"[rollupkit] call {hook_name}({kwargs}) -> [{names}]", file=sys.stderr)

        def after(
            outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]
        ) -> None:
            print(f"[rollupkit] {hook_name} returned {outcome.get_result()!r}", file=sys.stderr)

        self._pm.add_hookcall_monitoring(before, after)

    @property
    def hook(self) -> Any:
        """The pluggy hook relay, for calling hooks directly."""
        return self._pm.hook


_default: PluginRegistry | None = None
_default_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry, loading entry points on first use.

    ``ROLLUPKIT_PLUGINS=builtin`` restricts it to rollupkit's own plugins.
    """
    global _default
    with _default_lock:
        if _default is None:
            registry = PluginRegistry()
            only_builtin = os.environ.get(SELECT_ENV, "").strip().lower() == "builtin"
            registry.load_entry_points(only_builtin=only_builtin)
            _default = registry
        return _default


def reset_registry() -> None:
    """Forget the process-wide registry so the next :func:`get_registry` reloads plugins."""
    global _default
    with _default_lock:
        _default = None
