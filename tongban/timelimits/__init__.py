"""Working days, holidays and the case clock: every deadline in tongban is computed here."""
