/* calendar: the one Gregorian helper the core's date code shares (KPI
 * periods, the demo's generator, the month-end tables). */
#ifndef FS_CALENDAR_H
#define FS_CALENDAR_H
#include <stdbool.h>

/* Days in month m (1-12) of year y. */
static inline int calendar_days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}
#endif
