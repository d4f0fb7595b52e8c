/* settings_core: the core's own settings, those of a route rather than of
 * a KPI (e.g. "benchmarks.shared"). Apart from settings.c so that the plugin
 * loader (plugins.c) can refuse a plugin's setting of the same name without
 * depending on the settings store. */
#ifndef FS_SETTINGS_CORE_H
#define FS_SETTINGS_CORE_H
#include "fourscore/plugin.h"

/* The core's own setting called name, or NULL. */
const fsp_setting_def *kpi_setting_core(const char *name);
/* The i-th of the core's settings (from 0), or NULL past the end. */
const fsp_setting_def *kpi_setting_core_at(int i);
#endif
