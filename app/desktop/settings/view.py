"""The Settings tab: a form over the container's configuration.

Saving a changed configuration recreates the container (its config is fixed
at creation), so the view asks first and says what is lost. Renaming alone
does not recreate anything.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.settings.configedit import (
    SettingsForm,
    check_name,
    config_from_form,
    form_from_config,
)
from app.desktop.settings.editmodel import Column, EditModel
from app.desktop.widgets.confirm import ask
from engine import RESTART_POLICIES, Container, ContainerConfig, InvalidArgument

__all__ = ["SettingsView"]


def _table(model: EditModel, name: str, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setAccessibleName(name)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    for column in range(model.columnCount()):
        checkbox = model.headerData(column, Qt.Orientation.Horizontal) == "Read-only"
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents
                                    if checkbox else QHeaderView.ResizeMode.Stretch)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
    view.setMinimumHeight(110)
    view.setMaximumHeight(180)
    return view


BUILTIN_NETWORKS = ["bridge", "host", "none"]  # as `skiff network ls` names them


class _NetworkBox(QComboBox):
    """Asks for the engine's networks when opened (listing them may need the helper,
    so not on every container shown)."""

    def __init__(self, wanted: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wanted = wanted

    def showPopup(self) -> None:
        self._wanted()
        super().showPopup()


class SettingsView(QWidget):
    save_requested = Signal(object, object, str)  # Container, ContainerConfig, new name
    rename_requested = Signal(object, str)  # Container, new name
    networks_wanted = Signal()  # the network list was opened: call set_networks

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Settings")
        self.container: Container | None = None
        self._loaded = SettingsForm()

        self.name = QLineEdit(self)
        self.name.setAccessibleName("Name")
        self.rename = QPushButton("Rename", self)
        self.rename.setAccessibleName("Rename the container")
        self.rename.clicked.connect(self._on_rename_clicked)

        self.env = EditModel([Column("Name", hint="The variable's name, such as DEBUG"),
                              Column("Value")], self)
        self.env_view = _table(self.env, "Environment variables", self)
        self.ports = EditModel([
            Column("Container port", hint="The port a server listens on inside, such as 80"),
            Column("Protocol", default="tcp", hint="tcp, udp or sctp"),
            Column("Host address", hint="Empty: every address of this computer"),
            Column("Host port", hint="Empty: any free port, chosen when it starts")], self)
        self.ports_view = _table(self.ports, "Published ports", self)
        self.volumes = EditModel([
            Column("Host folder or volume", hint="An absolute folder of this computer, or a "
                                                 "volume's name; empty for a new anonymous volume"),
            Column("Path in the container", hint="Where it appears inside, such as /data"),
            Column("Read-only", kind="bool", default=False)], self)
        self.volumes_view = _table(self.volumes, "Volumes", self)

        self.network = _NetworkBox(self.networks_wanted.emit, self)
        self.network.setEditable(True)
        self.network.addItems(BUILTIN_NETWORKS)
        self.network.setAccessibleName("Network")
        self.restart = QComboBox(self)
        self.restart.addItems(list(RESTART_POLICIES))
        self.restart.setAccessibleName("Restart policy")
        self.retries = QSpinBox(self)
        self.retries.setRange(0, 1000)
        self.retries.setSpecialValueText("unlimited")
        self.retries.setAccessibleName("Maximum restarts")
        self.restart.currentTextChanged.connect(
            lambda text: self.retries.setEnabled(text == "on-failure"))
        self.memory = QLineEdit(self)
        self.memory.setPlaceholderText("no limit (e.g. 512m, 2g)")
        self.memory.setAccessibleName("Memory limit")
        self.cpus = QLineEdit(self)
        self.cpus.setPlaceholderText("no limit (e.g. 0.5, 2)")
        self.cpus.setAccessibleName("CPU limit")
        self.pids = QLineEdit(self)
        self.pids.setPlaceholderText("no limit (e.g. 100)")
        self.pids.setAccessibleName("Process limit")
        self.command = QLineEdit(self)
        self.command.setPlaceholderText("the image's command")
        self.command.setAccessibleName("Command")

        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Settings error")
        self.error.setStyleSheet("QLabel { color: #d9534f; }")
        self.error.hide()
        self.progress = QLabel(self)  # a recreate's current step, in place
        self.progress.setAccessibleName("Settings progress")
        self.progress.hide()
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # a step has no percentage: a busy indicator
        self.busy.setMaximumWidth(120)
        self.busy.setAccessibleName("Recreating")
        self.busy.hide()
        self.save = QPushButton("Save", self)
        self.save.setAccessibleName("Save settings")
        self.save.setToolTip("Apply the settings (recreates the container)")
        self.save.clicked.connect(self._on_save_clicked)
        self.revert = QPushButton("Revert", self)
        self.revert.setAccessibleName("Revert settings")
        self.revert.clicked.connect(self.reload)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        name_row = QHBoxLayout()
        name_row.addWidget(self.name, 1)
        name_row.addWidget(self.rename)
        form.addRow(self._label("&Name:", self.name), name_row)
        form.addRow(self._label("&Environment:", self.env_view),
                    self._with_buttons(self.env_view, self._add_env, "variable"))
        form.addRow(self._label("&Ports:", self.ports_view),
                    self._with_buttons(self.ports_view, self._add_port, "port"))
        form.addRow(self._label("&Volumes:", self.volumes_view),
                    self._with_buttons(self.volumes_view, self._add_volume, "volume"))
        form.addRow("Net&work:", self.network)
        restart_row = QHBoxLayout()
        restart_row.addWidget(self.restart, 1)
        restart_row.addWidget(QLabel("at most", self))
        restart_row.addWidget(self.retries)
        form.addRow(self._label("&Restart policy:", self.restart), restart_row)
        form.addRow("&Memory limit:", self.memory)
        form.addRow("&CPUs:", self.cpus)
        form.addRow("Process l&imit:", self.pids)
        form.addRow("Co&mmand:", self.command)

        inner = QWidget(self)
        inner_layout = QVBoxLayout(inner)
        inner_layout.addLayout(form)
        inner_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        buttons.addWidget(self.error, 1)
        buttons.addWidget(self.progress)
        buttons.addWidget(self.busy)
        buttons.addStretch(1)
        buttons.addWidget(self.revert)
        buttons.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.setEnabled(False)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _with_buttons(self, view: QTableView, add: object, what: str) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view)
        row = QHBoxLayout()
        plus = QPushButton(f"Add {what}", box)
        plus.setAccessibleName(f"Add a {what}")
        plus.clicked.connect(add)
        minus = QPushButton("Remove", box)
        minus.setAccessibleName(f"Remove the selected {what}")
        minus.clicked.connect(lambda _c=False, v=view: self._remove_rows(v))
        row.addWidget(plus)
        if view is self.volumes_view:
            browse = QPushButton("Browse…", box)
            browse.setAccessibleName("Pick the host folder of the selected volume")
            browse.setToolTip("Pick a folder of this computer for the selected volume")
            browse.clicked.connect(self._browse_folder)
            row.addWidget(browse)
        row.addWidget(minus)
        row.addStretch(1)
        layout.addLayout(row)
        return box

    # -- loading --------------------------------------------------------------------

    def set_container(self, container: Container | None) -> None:
        """Load the form when another container is shown; keep edits otherwise."""
        same = (container is not None and self.container is not None
                and container.id == self.container.id)
        self.container = container
        self.setEnabled(container is not None)
        if container is None:
            self.fill(SettingsForm())
        elif not same:
            self.reload()

    def reload(self) -> None:
        if self.container is None:
            return
        self._loaded = form_from_config(self.container.name, self.container.config)
        self.fill(self._loaded)

    def fill(self, form: SettingsForm) -> None:
        self.error.hide()
        self.name.setText(form.name)
        self.env.set_rows(form.env)
        self.ports.set_rows([(c, p or "tcp", ip, hp) for c, p, ip, hp in form.ports])
        self.volumes.set_rows(form.volumes)
        self.network.setCurrentText(form.network)
        self.restart.setCurrentText(form.restart)
        self.retries.setValue(form.max_retries)
        self.retries.setEnabled(form.restart == "on-failure")
        self.memory.setText(form.memory)
        self.cpus.setText(form.cpus)
        self.pids.setText(form.pids)
        self.command.setText(form.command)

    def form(self) -> SettingsForm:
        return SettingsForm(
            name=self.name.text().strip(),
            env=[(str(k), str(v)) for k, v in self.env.rows()],
            ports=[(str(a), str(b), str(c), str(d)) for a, b, c, d in self.ports.rows()],
            volumes=[(str(a), str(b), bool(c)) for a, b, c in self.volumes.rows()],
            network=self.network.currentText(), restart=self.restart.currentText(),
            max_retries=self.retries.value(), memory=self.memory.text(),
            cpus=self.cpus.text(), pids=self.pids.text(), command=self.command.text())

    # -- editing --------------------------------------------------------------------

    def _add_env(self) -> None:
        self._edit_new_row(self.env_view, self.env.add_row())

    def _add_port(self) -> None:
        self._edit_new_row(self.ports_view, self.ports.add_row(["", "tcp", "", ""]))

    def _add_volume(self) -> None:
        self._edit_new_row(self.volumes_view, self.volumes.add_row(["", "", False]))

    def _edit_new_row(self, view: QTableView, row: int) -> None:
        index = view.model().index(row, 0)
        view.setCurrentIndex(index)
        view.edit(index)

    def _remove_rows(self, view: QTableView) -> None:
        model = view.model()
        assert isinstance(model, EditModel)
        rows = {index.row() for index in view.selectionModel().selectedIndexes()}
        if not rows and view.currentIndex().isValid():
            rows = {view.currentIndex().row()}
        model.remove_rows(rows)

    def _browse_folder(self) -> QFileDialog:
        dialog = QFileDialog(self, "Pick a folder to share with the container")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.fileSelected.connect(self.use_folder)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        return dialog

    def use_folder(self, folder: str) -> None:
        """Put ``folder`` in the selected volume row (or a new one)."""
        current = self.volumes_view.currentIndex()
        row = current.row() if current.isValid() else self.volumes.add_row(["", "", False])
        self.volumes.set_value(row, 0, folder)
        if not str(self.volumes.rows()[row][1]).strip():
            self.volumes.set_value(row, 1, "/data")

    # -- saving ---------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def show_progress(self, step: str) -> None:
        """A recreate is under way: say its step; the form waits until it is over."""
        self.error.hide()
        self.progress.setText(step)
        self.progress.show()
        self.busy.show()
        for widget in (self.save, self.revert, self.rename):
            widget.setEnabled(False)

    def end_progress(self, error: str = "") -> None:
        self.progress.hide()
        self.busy.hide()
        for widget in (self.save, self.revert, self.rename):
            widget.setEnabled(True)
        if error:
            self._show_error(error)

    def in_progress(self) -> bool:
        return not self.progress.isHidden()

    def _on_rename_clicked(self) -> None:
        if self.container is None:
            return
        try:
            name = check_name(self.name.text())
        except InvalidArgument as exc:
            self._show_error(f"Cannot rename: {exc}.")
            return
        if name != self.container.name:
            self.error.hide()
            self.rename_requested.emit(self.container, name)

    def new_config(self) -> ContainerConfig:
        """The config the form describes; raises InvalidArgument."""
        assert self.container is not None
        return config_from_form(self.container.config, self.form())

    def _on_save_clicked(self) -> None:
        container = self.container
        if container is None:
            return
        try:
            name = check_name(self.name.text())
            config = self.new_config()
        except InvalidArgument as exc:
            self._show_error(f"Cannot save: {exc}.")
            return
        self.error.hide()
        if config == container.config:
            if name != container.name:
                self.rename_requested.emit(container, name)
            return
        running = container.state.status.is_active
        ask(self, "Recreate the container?",
            f"Saving these settings recreates {container.name}.",
            "Recreate",
            lambda: self.save_requested.emit(container, config, name),
            informative=(
                f"A container's settings are fixed when it is made, so Skiff removes "
                f"{container.name} and makes a new one "
                f"{'with the same name' if name == container.name else f'named {name}'} "
                "and these settings"
                f"{', then starts it' if running else ''}. Files written inside the container "
                "(not in volumes) will be lost."))

    def set_networks(self, names: list[str]) -> None:
        """The networks to offer (user networks too); what is typed stays."""
        current = self.network.currentText()
        wanted = BUILTIN_NETWORKS + sorted(set(names) - set(BUILTIN_NETWORKS))
        if [self.network.itemText(i) for i in range(self.network.count())] != wanted:
            self.network.clear()
            self.network.addItems(wanted)
            self.network.setCurrentText(current)

    def focus_first(self) -> None:
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)
