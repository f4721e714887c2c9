import { Module } from '@nestjs/common';
import { AdminEnrollmentsController } from './admin-enrollments.controller.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@Module({ controllers: [AdminEnrollmentsController], providers: [AdminTokenGuard] })
export class AdminModule {}
