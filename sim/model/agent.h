/* Agents and the yearly process of MODEL.md section 4, step 3.
 *
 * Internal to the engine (and its tests). An agent is a packed 32-byte
 * record; the population of one replication is a flat array of them. Each
 * mechanism is a function of (year context, agent, draws) so it can be tested
 * in isolation against its analytic expectation. */
#ifndef TS_AGENT_H
#define TS_AGENT_H

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

typedef struct {
    float q;                /* talent, exp(talent_sigma z), fixed */
    float sens;             /* sensitivity to suspicion, mean 1, fixed */
    float h;                /* perceived hostility in [0, 1] */
    uint32_t idx;           /* agent id, part 1: index within its group */
    uint16_t group;         /* agent id, part 2: 0 initial, else birth cohort */
    int16_t grad_year;      /* year of PhD graduation, or -1 */
    uint8_t active;         /* 0 once the agent has left research */
    uint8_t loc;            /* ts_loc */
    uint8_t stage;          /* ts_stage */
    uint8_t sector;         /* ts_sector */
    uint8_t visa;           /* ts_visa */
    uint8_t collab;         /* active cross-border collaboration */
    uint8_t grad_in_us;     /* graduated in the US */
    uint8_t years_in_stage; /* counters saturate at 255 */
    uint8_t years_in_us;
    uint8_t years_on_visa;  /* years in the current US visa status */
    uint8_t considered;     /* bit k: considered leaving k years ago */
    uint8_t pad_;
} ts_agent;

/* Everything an agent reads in year t: P_t, derived constants and last
 * year's aggregates. Read-only during the agent loop. */
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
    uint8_t window_mask; /* survey window bits */
} ts_year;

/* Derived constants of year t from P_t and last year's aggregates. */
void ts_year_init(ts_year *y, const ts_params *p, int64_t year, uint64_t seed,
                  uint32_t rep, double d_prev, double a_us, double a_cn);

/* Agent id group of a cohort born in year at loc (>= 1; group 0 is the
 * start population). Years from 1700 on give distinct groups. */
uint16_t ts_agent_group(int64_t year, ts_loc loc);

/* Draws q and sens of a new agent (MODEL 2). */
void ts_agent_birth(const ts_year *y, ts_agent *a, uint32_t idx, uint16_t group,
                    ts_loc loc, ts_stage stage);

/* Initial state of an agent of the start population (MODEL 2b); y is the
 * first simulated year. */
void ts_agent_init(const ts_year *y, ts_agent *a, uint32_t idx, ts_loc loc,
                   ts_stage stage);

/* One year for one active agent: MODEL 4 step 3, then records its end-of-year
 * state into t. */
void ts_agent_year(const ts_year *y, ts_agent *a, ts_tally *t);

/* MODEL 4 step 4: adds the end-of-year state of an active agent to t; moved
 * says whether it moved this year. */
void ts_agent_record(const ts_year *y, const ts_agent *a, int moved, ts_tally *t);

/* The mechanisms, exposed for tests. Each returns 1 when the event happens. */
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
