# Regenerate the survival reference values that tests/test_survival.py compares against.
#
#   Rscript tests/make_survival_fixtures.R          (or: make fixtures)
#
# Needs R with survival (Debian: apt-get install r-base-core r-cran-survival).
# Output: tests/fixtures/survival_reference.csv (case, statistic, value)
#
# Data: the NCCTG lung cancer data shipped with R's survival package (the same data
# lifelines ships as lifelines.datasets.load_lung(), with status recoded 0/1), plus two
# small constructed samples whose Kaplan-Meier curve is flat at exactly 0.5, where R
# takes the midpoint of the flat stretch as the median.
#  - survfit() + quantile(): median and 95% CI for conf.type "log", "log-log", "plain"
#  - coxph(Surv(time, status) ~ sex + age, cluster = inst): marginal Cox model with
#    robust (sandwich) variance, Efron ties
#  - prop.trend.test(): the chi-square test for trend in proportions (CRB-401 Table 3)

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- normalizePath(sub("^--file=", "", args[grep("^--file=", args)]))
fixtures <- file.path(dirname(script), "fixtures")

rows <- list()
emit <- function(case, statistic, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, statistic = statistic,
                                          value = sprintf("%.17g", as.numeric(value)))
}

lung2 <- survival::lung
lung2$status <- lung2$status - 1  # 0 = censored, 1 = dead, as in lifelines
samples <- list(
  lung_all = lung2,
  lung_male = lung2[lung2$sex == 1, ],
  lung_female = lung2[lung2$sex == 2, ],
  flat_half = data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 1)),
  flat_half_tied = data.frame(time = c(2, 2, 5, 7, 7, 9), status = c(1, 1, 1, 0, 0, 1)))
for (case in names(samples)) {
  d <- samples[[case]]
  for (type in c("log", "log-log", "plain")) {
    q <- quantile(survfit(Surv(time, status) ~ 1, data = d, conf.type = type), probs = 0.5)
    emit(case, paste0(type, "_median"), q$quantile)
    emit(case, paste0(type, "_lower"), q$lower)
    emit(case, paste0(type, "_upper"), q$upper)
  }
  emit(case, "n", nrow(d))
  emit(case, "events", sum(d$status))
}

cox_data <- lung2[!is.na(lung2$inst), ]
fit <- coxph(Surv(time, status) ~ sex + age, data = cox_data, cluster = inst)
s <- summary(fit)
for (term in c("sex", "age")) {
  emit("cox_lung", paste0(term, "_coef"), coef(fit)[[term]])
  emit("cox_lung", paste0(term, "_hr"), exp(coef(fit)[[term]]))
  emit("cox_lung", paste0(term, "_robust_se"), s$coefficients[term, "robust se"])
  emit("cox_lung", paste0(term, "_naive_se"), s$coefficients[term, "se(coef)"])
  emit("cox_lung", paste0(term, "_p"), s$coefficients[term, "Pr(>|z|)"])
  emit("cox_lung", paste0(term, "_ci_low"), s$conf.int[term, "lower .95"])
  emit("cox_lung", paste0(term, "_ci_high"), s$conf.int[term, "upper .95"])
}
emit("cox_lung", "n", fit$n)
emit("cox_lung", "events", fit$nevent)

# CRB-401 Table 3: responders by dose level (50, 150, 450, 800 x 10^6 CAR+ T cells).
responders <- c(1, 6, 18, 3)
treated <- c(3, 8, 19, 3)
for (scores in list(dose = c(50, 150, 450, 800), rank = 1:4, log_dose = log(c(50, 150, 450, 800)))) {
  name <- if (identical(scores, 1:4)) "rank" else if (scores[1] == 50) "dose" else "log_dose"
  t <- prop.trend.test(responders, treated, score = scores)
  emit("trend_crb401", paste0(name, "_statistic"), t$statistic)
  emit("trend_crb401", paste0(name, "_p"), t$p.value)
}

out <- do.call(rbind, rows)
write.csv(out, file.path(fixtures, "survival_reference.csv"), row.names = FALSE)
cat(sprintf("wrote %d survival reference values (survival %s)\n", nrow(out),
            as.character(packageVersion("survival"))))
