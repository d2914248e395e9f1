"""The Settings tab: confirm before recreating, the engine's networks, errors, rename."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox

from app.desktop.settings.view import SettingsView
from tests.app.desktop.samples import container


def test_settings_confirm_then_recreate(qtbot: Any) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.show()
    web = container("web", env=["MODE=dev"])
    view.set_container(web)
    assert view.env.rows() == [["MODE", "dev"]]
    view.env.set_value(0, 1, "prod")
    view.memory.setText("64m")
    saved: list[tuple[Any, ...]] = []
    view.save_requested.connect(lambda c, config, name: saved.append((c, config, name)))
    view.save.click()
    box = view.findChild(QMessageBox, "confirm")
    assert box is not None and box.isVisible()
    assert "recreates web" in box.text()
    assert "Files written inside the container (not in volumes) will be lost" in \
        box.informativeText()
    recreate = next(b for b in box.buttons() if b.text() == "Recreate")
    recreate.click()
    assert len(saved) == 1
    _container, config, name = saved[0]
    assert config.env == ["MODE=prod"] and config.resources.memory == 64 * 1024 * 1024
    assert name == "web"
    view.set_container(container("web", env=["MODE=dev"]))  # same container: edits stay
    assert view.env.rows() == [["MODE", "prod"]]
    view.name.setText("api")  # renamed as well: the warning says the new name
    view.save.click()
    box = [b for b in view.findChildren(QMessageBox, "confirm") if b.isVisible()][-1]
    assert "makes a new one named api and these settings" in box.informativeText()
    box.reject()


def test_settings_offer_the_engines_networks_when_opened(qtbot: Any) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.show()
    view.set_container(container("web"))
    wanted: list[bool] = []
    view.networks_wanted.connect(lambda: wanted.append(True))
    view.network.setCurrentText("typed-by-hand")
    view.network.showPopup()
    assert wanted == [True]
    view.set_networks(["bridge", "host", "none", "backend", "app-net"])
    view.network.hidePopup()
    items = [view.network.itemText(i) for i in range(view.network.count())]
    assert items == ["bridge", "host", "none", "app-net", "backend"]
    assert view.network.currentText() == "typed-by-hand"


def test_settings_errors_and_rename(qtbot: Any) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_container(container("web"))
    view.ports.add_row(["eighty", "tcp", "", ""])
    view.save.click()
    assert "Cannot save" in view.error.text() and "'eighty'" in view.error.text()
    view.reload()
    renamed: list[str] = []
    view.rename_requested.connect(lambda _c, name: renamed.append(name))
    view.name.setText("web-2")
    view.rename.click()
    view.save.click()  # only the name changed: a rename, no recreate
    assert renamed == ["web-2", "web-2"]
    view.use_folder("/srv/data")
    assert view.volumes.rows() == [["/srv/data", "/data", False]]
