/* Agents and the yearly process of MODEL.md section 4, step 3.
 *
 * Internal to the engine (and its tests). The population of a replication is
 * a structure of arrays: one column per agent field (TS_COLUMNS), so a
 * mechanism reads only the fields it needs. The yearly step runs mechanism by
 * mechanism over chunks of agents (kernel.c).
 *
 * ts_agent is the same fields as one record; a ts_cols whose columns point at
 * the fields of one ts_agent is a population of one (ts_cols_of_agent), which
 * is how the tests run the engine's own code on hand-made agents. */
#ifndef TS_AGENT_H
#define TS_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "tally.h"
#include "talentsim/params.h"

typedef enum { TS_LOC_US = 0, TS_LOC_CN = 1 } ts_loc;
typedef enum { TS_STAGE_STUDENT = 0, TS_STAGE_EARLY, TS_STAGE_SENIOR } ts_stage;
typedef enum { TS_SECTOR_ACADEMIA = 0, TS_SECTOR_INDUSTRY } ts_sector;
/* NONE: outside the US without US citizenship (MODEL lists the US statuses). */
typedef enum {
    TS_VISA_NONE = 0, TS_VISA_STUDENT, TS_VISA_TEMP, TS_VISA_PERMANENT, TS_VISA_CITIZEN
} ts_visa;

/* The agent fields: (type, name, meaning). One table drives the columns,
 * their allocation, copy, compaction and the bytes per agent. Counters
 * saturate at 255. */
#define TS_COLUMNS(X)                                                              \
    X(float, q, "talent, exp(talent_sigma z), fixed")                              \
    X(double, lq, "ln q of the stored q, fixed (no pass takes a logarithm)")       \
    X(float, sens, "sensitivity to suspicion, mean 1, fixed")                      \
    X(float, h, "perceived hostility in [0, 1]")                                   \
    X(uint32_t, idx, "agent id, part 1: index within its group")                   \
    X(uint16_t, group, "agent id, part 2: 0 initial, else birth cohort")           \
    X(int16_t, grad_year, "year of PhD graduation, or -1")                         \
    X(uint8_t, loc, "ts_loc")                                                      \
    X(uint8_t, stage, "ts_stage")                                                  \
    X(uint8_t, sector, "ts_sector")                                                \
    X(uint8_t, visa, "ts_visa")                                                    \
    X(uint8_t, collab, "active cross-border collaboration")                        \
    X(uint8_t, grad_in_us, "graduated in the US")                                  \
    X(uint8_t, years_in_stage, "years in the current stage")                       \
    X(uint8_t, years_in_us, "years in the US")                                     \
    X(uint8_t, years_on_visa, "years in the current US visa status")               \
    X(uint8_t, considered, "bit k: considered leaving k years ago")

/* Columns of a population: column f of agent i is c->f[i]. */
typedef struct {
#define TS_COL_PTR_(type, name, doc) type *name;
    TS_COLUMNS(TS_COL_PTR_)
#undef TS_COL_PTR_
} ts_cols;

/* One agent as a record (tests and hand-made populations). active is 0
 * once the agent has left research; the engine drops such agents instead. */
typedef struct {
#define TS_COL_FIELD_(type, name, doc) type name;
    TS_COLUMNS(TS_COL_FIELD_)
#undef TS_COL_FIELD_
    uint8_t active;
} ts_agent;

/* Bytes of state per agent: the sum of the column widths. */
size_t ts_agent_bytes(void);

/* Sets the fields of a record that follow from others (lq from q), for
 * hand-made agents. */
void ts_agent_derive(ts_agent *a);

/* A population of one: the columns point at a's fields. */
ts_cols ts_cols_of_agent(ts_agent *a);

/* Reads row i of c into the fields of a (active is left as it is). */
void ts_cols_get(const ts_cols *c, size_t i, ts_agent *a);

/* Writes the fields of a into row i of c. */
void ts_cols_put(const ts_cols *c, size_t i, const ts_agent *a);

/* The utility terms of MODEL 5 that are the same for every agent in year t
 * (ts_year_init), so the passes hold them in registers. */
typedef struct {
    double fund_visa; /* β_fund F_US of an agent without citizenship */
    double fund_cit;  /* ... of a citizen */
    double collab;    /* β_collab openness */
    double eco_us;    /* β_eco A_US */
    double talent_us, fear, visa, stuck, ties, move_cost;
    double stuck_years;
    double cn;        /* β_wage Δw + β_fund cn_level + β_eco A_CN + β_home + asc_cn */
    double cn_relief; /* ... with tax relief */
    double talent_cn; /* β_talent talent_program */
    double threshold; /* china.talent_threshold */
} ts_util;

/* Everything an agent reads in year t: P_t, derived constants and last
 * year's aggregates. Read-only during the step. */
typedef struct {
    const ts_params *p;  /* P_t */
    int64_t year;
    uint64_t seed;
    uint32_t rep;
    double s;            /* suspicion.level */
    double d_prev;       /* d_{t-1}, academic departure rate of last year */
    double a_us, a_cn;   /* ecosystem terms A_US, A_CN */
    double dw[2];        /* Δw without / with tax relief */
    double top_q;        /* top-decile talent cut exp(1.2816 talent_sigma) */
    double attrition[3]; /* by stage */
    double peer;         /* ω d_{t-1} / d_ref */
    double collab_end;   /* P(a collaboration ends) */
    double collab_form;  /* P(one forms) */
    double promote[2];   /* promote_rate (1 - ceiling) in the US, in China */
    double offer_us;     /* offer rate of a move from the US */
    double offer_cn;     /* ... from China */
    double f_us[2];      /* F_US = us_federal_access, or 0 when banned: [0] without
                          * US citizenship, [1] a citizen (citizens keep it abroad) */
    ts_util u;
    uint8_t window_mask; /* survey window bits */
    /* the fixed-probability draws as word thresholds (ts_word_below):
     * u01(w) < p exactly when w < the threshold of p */
    uint64_t below_attrition[3], below_collab_end, below_collab_form, below_review;
    int record;          /* 1 (ts_year_init): the year's metrics are kept; 0 in the
                          * spin-up, whose tally only feeds the carry (ts_carry_update) */
    int consider;        /* 1 (ts_year_init): the year's considerations can reach a
                          * recorded survey (ts_consider_matters); 0 early in the spin-up */
} ts_year;

/* Derived constants of year t from P_t and last year's aggregates. */
void ts_year_init(ts_year *y, const ts_params *p, int64_t year, uint64_t seed,
                  uint32_t rep, double d_prev, double a_us, double a_cn);

/* Whether the considerations of simulated year `year` (MODEL 3.7) can reach
 * the survey of a recorded year, the first being first_recorded: the mask
 * keeps TS_SURVEY_WINDOW_MAX years, so those of earlier years are shifted
 * out unread. */
#define TS_SURVEY_WINDOW_MAX 8
int ts_consider_matters(int64_t year, int64_t first_recorded);

/* Agent id group of a cohort born in year at loc (>= 1; group 0 is the
 * start population). Years from 1700 on give distinct groups. */
uint16_t ts_agent_group(int64_t year, ts_loc loc);

/* Draws q and sens of a new agent (MODEL 2) into row i of c. */
void ts_agent_birth(const ts_year *y, const ts_cols *c, size_t i, uint32_t idx,
                    uint16_t group, ts_loc loc, ts_stage stage);

/* Initial state of an agent of the start population (MODEL 2b) in row i,
 * which holds the agent as born in group 0 at loc (ts_kernel_births); y is
 * the first simulated year. */
void ts_agent_init(const ts_year *y, const ts_cols *c, size_t i, ts_loc loc, ts_stage stage);

/* One year (MODEL 4 step 3, then the record of step 4) for the agents
 * [0, n) of c, all active; the survivors are moved to the front, in order,
 * and their number returned. Dispatches to the vector kernel of the CPU
 * (kernel.h). */
size_t ts_agents_year(const ts_year *y, const ts_cols *c, size_t n, ts_tally *t);

/* The same for one record: a->active becomes 0 when it leaves research. */
void ts_agent_year(const ts_year *y, ts_agent *a, ts_tally *t);

/* MODEL 4 step 4: adds the end-of-year state of an active agent to t; moved
 * says whether it moved this year. */
void ts_agent_record(const ts_year *y, const ts_agent *a, int moved, ts_tally *t);

/* The mechanisms one at a time on one record, with the draws of d (tests).
 * Each is the engine's own pass applied to a population of one. */
int ts_mech_attrition(const ts_year *y, ts_agent *a, ts_draws *d);
void ts_mech_collab(const ts_year *y, ts_agent *a, ts_draws *d);
void ts_mech_fear(const ts_year *y, ts_agent *a, ts_draws *d);
/* Returns 1 when the agent was forced out (visa expiry). */
int ts_mech_visa(const ts_year *y, ts_agent *a, ts_draws *d);
double ts_util_us(const ts_year *y, const ts_agent *a, int at_graduation);
double ts_util_cn(const ts_year *y, const ts_agent *a, int relief);
/* Probability that a location decision moves the agent (MODEL 3.6). */
double ts_move_prob(const ts_year *y, const ts_agent *a, int at_graduation, int relief);
double ts_logistic(double x);

#endif
