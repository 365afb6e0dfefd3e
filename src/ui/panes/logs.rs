//! Logs: the tui-logger smart widget (targets on the left, messages on the
//! right), fed by `tracing` through [`crate::logging`].

use ratatui::Frame;
use ratatui::layout::Rect;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerSmartWidget};

use crate::engine::Snapshot;
use crate::ui::app::App;
use crate::ui::theme::Theme;

/// Below this width the log lines drop the milliseconds and the target
/// (the selector on the left still names it), so messages keep their room.
const COMPACT_BELOW: u16 = 120;

pub fn render(frame: &mut Frame, area: Rect, _snap: &Snapshot, app: &App, theme: &Theme) {
    let wide = area.width >= COMPACT_BELOW;
    let stamp = if wide { "%H:%M:%S%.3f" } else { "%H:%M:%S" };
    let widget = TuiLoggerSmartWidget::default()
        .title_log("Logs")
        // Fits the selector at its narrowest (no targets yet).
        .title_target("Target")
        .border_style(theme.border())
        .style(theme.base())
        .style_error(theme.fg(theme.error))
        .style_warn(theme.fg(theme.warning))
        .style_info(theme.fg(theme.text))
        .style_debug(theme.muted())
        .style_trace(theme.fg(theme.stale))
        .highlight_style(theme.selected())
        .output_separator(' ')
        .output_timestamp(Some(stamp.to_string()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(wide)
        .output_file(false)
        .output_line(false)
        .state(&app.log_state);
    frame.render_widget(widget, area);
}
