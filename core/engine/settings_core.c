/* settings_core: the table of the core's own settings (see settings_core.h). */
#include <string.h>
#include "settings_core.h"

static const fsp_setting_def CORE_SETTINGS[] = {
    FSP_SETTING(.name = "benchmarks.shared", .name_zh = "向非管理员开放对标",
                .name_en = "Benchmarks shown to non-admins", .unit = "0/1",
                .default_value = 1, .min = 0, .max = 1),
};
#define NCORE (int)(sizeof CORE_SETTINGS / sizeof CORE_SETTINGS[0])

const fsp_setting_def *kpi_setting_core(const char *name)
{
    for (int i = 0; name && i < NCORE; i++)
        if (strcmp(CORE_SETTINGS[i].name, name) == 0) return &CORE_SETTINGS[i];
    return NULL;
}

const fsp_setting_def *kpi_setting_core_at(int i)
{
    return i >= 0 && i < NCORE ? &CORE_SETTINGS[i] : NULL;
}
