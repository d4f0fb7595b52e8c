/* kpi_form: the forms a KPI answer is handed out in (engine layer; shared
 * by kpi.h and kpi_cache.h): the JSON text, a whole gzip stream, or a
 * compressed piece to join with others (gzip_join.h). */
#ifndef FS_KPI_FORM_H
#define FS_KPI_FORM_H
enum kpi_form { KPI_FORM_TEXT = 0, KPI_FORM_GZIP, KPI_FORM_PIECE };
#endif
