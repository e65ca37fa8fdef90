// Calendar 0x0707 (SE 1.4 §D.9): requests tabled; day profiles, seasons and special days as octets.

import type { ClusterDef } from '../schema.ts';
import { ATTRIBUTE_REPORTING_STATUS, OPAQUE, f } from './fields.ts';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export const CALENDAR = {
  id: 0x0707,
  name: 'Calendar',
  attributes: [ATTRIBUTE_REPORTING_STATUS],
  commands: [
    {
      id: 0x00,
      dir: 'client-to-server',
      name: 'Get Calendar',
      fields: [
        f('earliestStartTime', 'utc'),
        f('minIssuerEventId', 'uint32'),
        f('numberOfCalendars', 'uint8'),
        f('calendarType', 'enum8'),
        f('providerId', 'uint32'),
      ],
    },
    {
      id: 0x01,
      dir: 'client-to-server',
      name: 'Get Day Profiles',
      fields: [f('providerId', 'uint32'), f('issuerCalendarId', 'uint32'), f('startDayId', 'uint8'), f('numberOfDays', 'uint8')],
    },
    {
      id: 0x02,
      dir: 'client-to-server',
      name: 'Get Week Profiles',
      fields: [f('providerId', 'uint32'), f('issuerCalendarId', 'uint32'), f('startWeekId', 'uint8'), f('numberOfWeeks', 'uint8')],
    },
    { id: 0x03, dir: 'client-to-server', name: 'Get Seasons', fields: [f('providerId', 'uint32'), f('issuerCalendarId', 'uint32')] },
    {
      id: 0x04,
      dir: 'client-to-server',
      name: 'Get Special Days',
      fields: [
        f('startTime', 'utc'),
        f('numberOfEvents', 'uint8'),
        f('calendarType', 'enum8'),
        f('providerId', 'uint32'),
        f('issuerCalendarId', 'uint32'),
      ],
    },
    { id: 0x05, dir: 'client-to-server', name: 'Get Calendar Cancellation', fields: [] },
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Publish Calendar',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('issuerCalendarId', 'uint32'),
        f('startTime', 'utc'),
        f('calendarType', 'enum8'),
        f('calendarTimeReference', 'enum8'),
        f('calendarName', 'octetString'),
        f('numberOfSeasons', 'uint8'),
        f('numberOfWeekProfiles', 'uint8'),
        f('numberOfDayProfiles', 'uint8'),
      ],
    },
    { id: 0x01, dir: 'server-to-client', name: 'Publish Day Profile', fields: OPAQUE },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Publish Week Profile',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('issuerCalendarId', 'uint32'),
        f('weekId', 'uint8'),
        ...DAYS.map((d) => f(`dayIdRef${d}`, 'uint8')),
      ],
    },
    { id: 0x03, dir: 'server-to-client', name: 'Publish Seasons', fields: OPAQUE },
    { id: 0x04, dir: 'server-to-client', name: 'Publish Special Days', fields: OPAQUE },
    {
      id: 0x05,
      dir: 'server-to-client',
      name: 'Cancel Calendar',
      fields: [f('providerId', 'uint32'), f('issuerCalendarId', 'uint32'), f('calendarType', 'enum8')],
    },
  ],
} as const satisfies ClusterDef;
